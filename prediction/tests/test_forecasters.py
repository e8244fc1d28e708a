"""Baselines, the combination with the market and its learned weights, and the walk-forward loop, on hand-made cases."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from markets.brackets import Bracket
from prediction.cases import EventCase, MarketInput, Outcome, TrainingPair, high_known_from
from prediction.combination import MARKET_ALONE, WEATHER_ALONE, Combination
from prediction.evaluation import outcomes, summarise, walk_forward
from prediction.forecasters import POSITIONS, Forecaster, PositionForecaster, Scored, learned_combination
from prediction.predictor import MARKET, MODEL, WEATHER, Forecast, combine, market_forecast

BRACKETS = (Bracket(None, 39), Bracket(40, 41), Bracket(42, 43), Bracket(44, None))
FIRST = date(2025, 1, 1)


def case(n: int, *, prices=(None, None, None, None), winner: int | None = 1) -> EventCase:
    day = FIRST + timedelta(days=n)
    markets = tuple(
        MarketInput(f"EV{n}-{k}", bracket, None if price is None else Decimal(price), None)
        for k, (bracket, price) in enumerate(zip(BRACKETS, prices, strict=True))
    )
    return EventCase(
        event_ticker=f"EV{n}",
        series_ticker="KXHIGHNY",
        city="New York",
        target_date=day,
        decided_at=datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
        standard_offset_minutes=-300,
        markets=markets,
        forecasts=(),
        history=(),
        running_max_f=None,
        outcome=None if winner is None else Outcome(f"EV{n}-{winner}", 41.0),
    )


class Fixed(Forecaster):
    """A forecaster with given probabilities per case, for the pool to weigh."""

    def __init__(self, name: str, by_case: Mapping[str, Sequence[float]]) -> None:
        self.name = name
        self.by_case = by_case

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        return {self.name: Forecast(tuple(self.by_case[case.event_ticker]))}


def test_the_market_is_the_last_trades_normalised_with_a_floor_for_unpriced_brackets():
    forecast = market_forecast(case(0, prices=("0.10", "0.60", "0.30", None)))
    assert forecast is not None
    assert sum(forecast.probabilities) == pytest.approx(1.0)
    assert forecast.probabilities[3] == pytest.approx(0.01 / 1.01)
    assert market_forecast(case(0)) is None


def test_positions_learn_how_often_each_bracket_won():
    earlier = [Scored(case(n, winner=1 if n % 4 else 2), {}) for n in range(40)]
    positions = PositionForecaster()
    positions.fit(as_of=case(50).decided_at, pairs=[], earlier=earlier)
    forecast = positions.predict(case(50))[POSITIONS]
    assert forecast is not None and sum(forecast.probabilities) == pytest.approx(1.0)
    assert forecast.probabilities[1] > forecast.probabilities[2] > forecast.probabilities[0]


def scored_pairs(sharp: str, n: int) -> list[Scored]:
    """Earlier cases where ``sharp`` (weather or market) put 85% on the winner and the other was uniform."""
    right, vague = (0.05, 0.85, 0.05, 0.05), (0.25, 0.25, 0.25, 0.25)
    return [
        Scored(
            case(k),
            {
                WEATHER: Forecast(right if sharp == WEATHER else vague),
                MARKET: Forecast(right if sharp == MARKET else vague),
            },
        )
        for k in range(n)
    ]


def test_the_combination_weighs_whichever_forecast_was_right_before():
    trusting_weather = learned_combination(scored_pairs(WEATHER, 30))
    trusting_market = learned_combination(scored_pairs(MARKET, 30))
    # A source always right is trusted and sharpened; one that never told anything gets no weight.
    assert trusting_weather.weather > 1 and trusting_market.weather == 0
    assert trusting_market.market > 1
    assert learned_combination(scored_pairs(WEATHER, 19)) == MARKET_ALONE  # too few cases: the market alone


def test_a_weather_model_that_was_right_by_chance_does_not_move_the_price():
    """Noise fits a little weight on 120 events; it must pass the likelihood-ratio test to be used."""
    rng = random.Random(7)
    calibrated = (0.1, 0.6, 0.2, 0.1)
    earlier = []
    for k in range(120):
        winner = rng.choices(range(4), weights=calibrated)[0]
        noise = [rng.random() + 0.05 for _ in range(4)]
        weather = tuple(v / sum(noise) for v in noise)
        earlier.append(Scored(case(k, winner=winner), {WEATHER: Forecast(weather), MARKET: Forecast(calibrated)}))
    assert learned_combination(earlier) == MARKET_ALONE


def test_the_combination_is_a_normalised_logarithmic_pool():
    weather, market = Forecast((0.1, 0.2, 0.3, 0.4), inputs=("x",)), Forecast((0.4, 0.3, 0.2, 0.1))
    pooled = combine(weather, market, Combination(0.5, 0.5))
    assert pooled is not None and pooled.combination == Combination(0.5, 0.5)
    geometric = [(w * m) ** 0.5 for w, m in zip(weather.probabilities, market.probabilities, strict=True)]
    assert pooled.probabilities == pytest.approx(tuple(g / sum(geometric) for g in geometric))
    assert pooled.inputs == ("x", MARKET)
    market_alone = combine(weather, market, MARKET_ALONE)
    assert market_alone is not None and market_alone.probabilities == pytest.approx(market.probabilities)


def test_the_combination_stands_on_one_leg_when_the_other_is_missing():
    weather, market = Forecast((0.1, 0.2, 0.3, 0.4), inputs=("x",)), Forecast((0.4, 0.3, 0.2, 0.1))
    alone = combine(weather, None, Combination(0.5, 0.5))
    assert alone is not None and (alone.probabilities, alone.combination) == (weather.probabilities, WEATHER_ALONE)
    priced = combine(None, market, Combination(0.5, 0.5))
    assert priced is not None and (priced.probabilities, priced.combination) == (market.probabilities, MARKET_ALONE)
    assert combine(None, None, Combination(0.5, 0.5)) is None


class Spy(Forecaster):
    """Records, at every fit, what it was shown; predicts uniform."""

    name = MODEL

    def __init__(self) -> None:
        self.fits: list[tuple[datetime, list[EventCase]]] = []

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.fits.append((as_of, [s.case for s in earlier]))

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        return {self.name: Forecast((0.25,) * 4)}


def test_walk_forward_shows_each_fit_only_outcomes_published_before_it():
    spy = Spy()
    cases = [case(n) for n in range(30)]
    results = walk_forward(list(reversed(cases)), pairs=[], forecasters=[spy], refit_every=timedelta(days=7))
    assert [r.case.event_ticker for r in results] == [c.event_ticker for c in cases]  # decision order
    assert [as_of for as_of, _ in spy.fits] == [cases[n].decided_at for n in (0, 7, 14, 21, 28)]
    for as_of, shown in spy.fits:
        assert all(high_known_from(c.target_date, c.standard_offset_minutes) <= as_of for c in shown)
        assert len(shown) == (as_of.date() - FIRST).days  # yesterday's high is out at 09:00, before 10:00


def test_summaries_compare_forecasters_on_the_same_events_with_intervals():
    cases = [case(n, winner=n % 4) for n in range(20)] + [case(99, winner=None)]
    sharp = {c.event_ticker: [0.9 if k == n % 4 else 0.1 / 3 for k in range(4)] for n, c in enumerate(cases)}
    flat = {c.event_ticker: [0.25] * 4 for c in cases}
    results = walk_forward(cases, pairs=[], forecasters=[Fixed(MODEL, sharp), Fixed(POSITIONS, flat)])
    summary = summarise(results, names=(MODEL, POSITIONS))
    assert summary["n_events"] == 20 and summary["n_markets"] == 80  # the unsettled event is left out
    assert summary["brier_model"]["value"] < summary["brier_positions"]["value"]
    low, high = summary["brier_model_minus_positions"]["low"], summary["brier_model_minus_positions"]["high"]
    assert low <= summary["brier_model_minus_positions"]["value"] <= high < 0
    assert [row for row in summary["reliability_model"] if row["count"]]
    assert outcomes(cases[2]) == [0, 0, 1, 0]
