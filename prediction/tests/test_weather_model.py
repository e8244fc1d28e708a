"""The weather model on synthetic histories whose truth we know."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from markets.brackets import Bracket
from prediction import weather_model
from prediction.cases import EventCase, ForecastInput, KnownHigh, MarketInput, TrainingPair, high_known_from
from prediction.distributions import Normal
from prediction.features import CLIMATOLOGY, LADDER, PERSISTENCE, CityKnowledge, features_at
from prediction.forecasters import ModelForecaster
from prediction.predictor import Forecast, predict
from prediction.weather_model import WeatherModel
from weather.quantities import ForecastQuantity

OFFSET = -300  # New York standard time
FIRST, LAST = date(2017, 1, 1), date(2025, 2, 27)
LADDER_BRACKETS = [Bracket(None, 39), Bracket(40, 41), Bracket(42, 43), Bracket(44, 45), Bracket(46, None)]


def decided(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)  # 10:00 EST


def seasonal(day: date) -> float:
    return 55 + 20 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25)


def forecast(day: date, value: float, *, n_hours: int = 24, members: tuple[float, ...] = ()) -> ForecastInput:
    return ForecastInput("test", "model", 0, value, n_hours, members, decided(day) - timedelta(hours=2))


def history(
    bias_of=lambda day: 1.0, noise: float = 1.5, forecast_from: date = date(2022, 1, 1), seed: int = 1, sources: int = 1
):
    """Highs for every day; from ``forecast_from`` on, forecasts (high + bias + noise) by ``sources`` models.

    One source is "test/model"; several are "test/m0", "test/m1", ... with independent errors.
    """
    rng = random.Random(seed)
    highs, pairs = [], []
    day = FIRST
    while day <= LAST:
        high = round(seasonal(day) + rng.gauss(0, 5))
        known = high_known_from(day, OFFSET)
        highs.append(KnownHigh(day, high, "ghcnd", known))
        forecasts: tuple[ForecastInput, ...] = ()
        if day >= forecast_from:
            names = ["model"] if sources == 1 else [f"m{k}" for k in range(sources)]
            forecasts = tuple(
                ForecastInput(
                    "test",
                    name,
                    0,
                    high + bias_of(day) + rng.gauss(0, noise),
                    24,
                    (),
                    decided(day) - timedelta(hours=2),
                )
                for name in names
            )
        pairs.append(TrainingPair(day, decided(day), forecasts, high, known))
        day += timedelta(days=1)
    return highs, pairs


def fitted(highs, pairs, *, as_of_day: date = LAST, use_correction: bool = False) -> WeatherModel:
    model = WeatherModel(CityKnowledge(highs), use_correction=use_correction)
    model.fit(pairs, as_of=decided(as_of_day))
    return model


def weather_of(
    model: WeatherModel, day: date, forecasts: list[ForecastInput], *, running_max: float | None = None
) -> Forecast | None:
    """The weather model's forecast of ``day`` decided at 10:00, through the one prediction path."""
    markets = tuple(MarketInput(f"M{k}", bracket, None, None) for k, bracket in enumerate(LADDER_BRACKETS))
    case = EventCase(
        event_ticker="E",
        series_ticker="KXHIGHNY",
        city="New York",
        target_date=day,
        decided_at=decided(day),
        standard_offset_minutes=OFFSET,
        markets=markets,
        forecasts=tuple(forecasts),
        history=(),
        running_max_f=running_max,
    )
    return predict(case, ModelForecaster(model), model.knowledge).weather


def test_the_forecast_bias_is_removed_and_the_spread_matches_the_error():
    highs, pairs = history(bias_of=lambda day: 3.0, noise=1.5)
    model = fitted(highs, pairs)
    day = LAST + timedelta(days=1)
    result = weather_of(model, day, [forecast(day, 46.0)])
    assert result is not None and isinstance(result.distribution, Normal)
    assert result.distribution.mean() == pytest.approx(43.0, abs=0.6)
    assert result.distribution.sigma == pytest.approx(1.5, abs=0.4)
    assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-9)
    assert "test/model" in result.inputs and "xgboost" not in result.inputs


def test_a_recent_change_of_bias_is_followed():
    """Errors shift with a source's upgrades: the model fits the latest window, not two years."""
    change = LAST - timedelta(days=50)
    highs, pairs = history(bias_of=lambda day: 4.0 if day < change else 0.0, noise=1.0)
    model = fitted(highs, pairs)
    day = LAST + timedelta(days=1)
    result = weather_of(model, day, [forecast(day, 43.0)])
    assert result is not None and result.distribution is not None
    assert result.distribution.mean() == pytest.approx(43.0, abs=0.7)


def test_without_forecasts_it_falls_back_on_climatology_and_persistence():
    highs, pairs = history(forecast_from=LAST + timedelta(days=10))
    model = fitted(highs, pairs)
    day = LAST + timedelta(days=1)
    result = weather_of(model, day, [])
    assert result is not None and result.distribution is not None
    assert set(result.inputs) <= {CLIMATOLOGY, PERSISTENCE} and result.inputs
    assert 35 < result.distribution.mean() < 55  # a late-February high in New York's synthetic climate


def test_a_good_forecast_is_not_diluted_with_climatology():
    """The forecasts-only candidate wins the recent out-of-sample comparison when it is better."""
    highs, pairs = history(bias_of=lambda day: 0.0, noise=0.8)
    model = fitted(highs, pairs)
    day = LAST + timedelta(days=1)
    result = weather_of(model, day, [forecast(day, 44.0)])
    assert result is not None and result.inputs == ("test/model",)


def test_training_uses_only_highs_published_by_the_fit_time():
    highs, pairs = history()
    as_of = decided(date(2024, 6, 1))
    model = WeatherModel(CityKnowledge(highs), use_correction=False)
    report = model.fit(pairs, as_of=as_of)
    last_used = max(row.day for row in model._rows)
    assert last_used == date(2024, 5, 31)  # 31 May's high is out at 09:00 EST on 1 June, before 10:00
    assert report.rows == len([p for p in pairs if p.known_from <= as_of and as_of - p.decided_at <= timedelta(730)])


def test_the_xgboost_correction_is_used_only_where_it_helps():
    # A bias the linear model cannot follow: +5 °F on cold days only (depends on the forecast's level).
    highs, pairs = history(bias_of=lambda day: 0.0, noise=1.0)
    cold_bias = [
        TrainingPair(
            p.day,
            p.decided_at,
            tuple(forecast(p.day, f.high_f + (5.0 if f.high_f < 50 else 0.0)) for f in p.forecasts),
            p.observed_high_f,
            p.known_from,
        )
        for p in pairs
    ]
    corrected = fitted(highs, cold_bias, use_correction=True)
    day = LAST + timedelta(days=1)
    cold = weather_of(corrected, day, [forecast(day, 45.0)])
    assert cold is not None and "xgboost" in cold.inputs
    used = [p for p in corrected.report.patterns.values() if p.correction is not None]
    assert used
    for pattern in used:
        assert pattern.held_out_crps is not None and pattern.held_out_corrected_crps is not None
        assert pattern.held_out_corrected_crps < pattern.held_out_crps * 0.995

    plain = fitted(highs, pairs, use_correction=True)
    result = weather_of(plain, day, [forecast(day, 45.0)])
    assert result is not None and "xgboost" not in result.inputs  # pure noise: nothing to learn, nothing applied


def test_the_running_maximum_rules_out_lower_brackets():
    highs, pairs = history()
    model = fitted(highs, pairs)
    day = LAST + timedelta(days=1)
    result = weather_of(model, day, [forecast(day, 41.0)], running_max=44.0)
    assert result is not None
    assert result.probabilities[:3] == (0.0, 0.0, 0.0)
    assert sum(result.probabilities) == pytest.approx(1.0)


def test_guidance_sampled_at_one_hour_is_its_own_feature_though_it_covers_one_hour():
    highs, _ = history()
    day = date(2024, 3, 10)
    hrrr = ForecastInput(
        "noaa-guidance",
        "hrrr-t2m-1500",
        1,
        47.0,
        1,
        (),
        decided(day) - timedelta(hours=20),
        ForecastQuantity.T2M_1500_LOCAL,
    )
    partial = ForecastInput("test", "model", 0, 45.0, 1, (), decided(day) - timedelta(hours=2))
    features = features_at(day=day, when=decided(day), forecasts=[hrrr, partial], knowledge=CityKnowledge(highs))
    assert features.values["noaa-guidance/hrrr-t2m-1500"] == 47.0  # a predictor of the high, with its own bias
    assert "test/model" not in features.values  # an hour of a day's highs is not the day's high


def test_features_skip_partial_days_and_unknown_highs():
    highs, _ = history()
    knowledge = CityKnowledge(highs)
    day = date(2024, 3, 10)
    features = features_at(
        day=day,
        when=decided(day),
        forecasts=[forecast(day, 50.0, n_hours=12), forecast(day, 51.0, members=(49.0, 51.0, 53.0))],
        knowledge=knowledge,
        ladder_centre=50.5,
    )
    assert features.values["test/model"] == 51.0  # the 12-hour maximum is not a day's high
    assert features.spread == pytest.approx(2.0)
    assert features.values[LADDER] == 50.5
    # Persistence carries yesterday's high, published at 09:00, not today's.
    yesterday = next(h for h in highs if h.day == day - timedelta(days=1))
    climatology_then = knowledge.climatology_mean(yesterday.day, when=decided(day))
    expected = features.values[CLIMATOLOGY] + yesterday.high_f - climatology_then
    assert features.values[PERSISTENCE] == pytest.approx(expected)
    before_report = features_at(day=day, when=decided(day) - timedelta(hours=2), forecasts=[], knowledge=knowledge)
    assert before_report.values[PERSISTENCE] != features.values[PERSISTENCE]


def noisy_sources(n: int, *, noise: float):
    """Highs and ``n`` independent sources of high + noise: more coefficients than a short window can fit well."""
    return history(bias_of=lambda day: 0.0, noise=noise, sources=n, seed=3)


def test_a_stable_relation_is_fitted_on_a_year_not_on_the_noisy_last_two_months():
    highs, pairs = noisy_sources(6, noise=4.0)
    model = fitted(highs, pairs)
    pattern = model.fitted_for(tuple(f"test/m{k}" for k in range(6)))
    assert pattern is not None and pattern.window_days == 365


def test_a_recent_change_is_fitted_on_the_short_window():
    change = LAST - timedelta(days=50)
    highs, pairs = history(bias_of=lambda day: 4.0 if day < change else 0.0, noise=1.0)
    pattern = fitted(highs, pairs).fitted_for(("test/model",))
    assert pattern is not None and pattern.window_days == 60


def test_the_spread_is_calibrated_on_days_the_fit_did_not_see(monkeypatch):
    """Fitted and scored on the same 60 days, 9 coefficients look sharper than they are on the next days."""
    monkeypatch.setattr(weather_model, "CANDIDATE_WINDOWS", (timedelta(days=60),))
    highs, pairs = noisy_sources(8, noise=4.0)
    as_of_day = LAST - timedelta(days=120)
    model = fitted(highs, pairs, as_of_day=as_of_day)
    names = tuple(f"test/m{k}" for k in range(8))
    pattern = model.fitted_for(names)
    assert pattern is not None and pattern.features == names
    assert pattern.sigma_scale > 1.05

    later = [p for p in pairs if as_of_day < p.day <= as_of_day + timedelta(days=120)]
    calibrated, in_sample = [], []
    for pair in later:
        result = weather_of(model, pair.day, list(pair.forecasts))
        assert result is not None and isinstance(result.distribution, Normal)
        mu, sigma = result.distribution.mu, result.distribution.sigma
        calibrated.append(Normal(mu, sigma).crps(pair.observed_high_f))
        in_sample.append(Normal(mu, sigma / pattern.sigma_scale).crps(pair.observed_high_f))
    assert sum(calibrated) < sum(in_sample)
