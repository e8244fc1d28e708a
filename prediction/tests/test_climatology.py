from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from prediction.climatology import (
    Climatology,
    ClimatologyError,
    bracket_position_baseline,
    climatology_normal,
    persistence_normal,
    seasonal_position,
)


def seasonal(position):
    return 60.0 + 20.0 * np.sin(2 * np.pi * (np.asarray(position) - 110.0) / 365.0)


def synthetic_history(start=date(2000, 1, 1), end=date(2023, 12, 31), noise=3.0, seed=1):
    rng = np.random.default_rng(seed)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    highs = seasonal([seasonal_position(d) for d in days]) + rng.normal(0.0, noise, len(days))
    return list(zip(days, highs.tolist(), strict=True))


HISTORY = synthetic_history()


def test_climatology_of_a_synthetic_seasonal_series():
    climatology = Climatology(HISTORY, window_days=7)
    for day in (date(2024, 7, 15), date(2024, 1, 20), date(2024, 4, 20)):
        window = seasonal(np.arange(-7, 8) + seasonal_position(day))
        forecast = climatology.normal(day, cutoff=day)
        assert forecast.mu == pytest.approx(window.mean(), abs=0.5)
        assert forecast.sigma == pytest.approx(math.sqrt(9.0 + window.var()), abs=0.35)
        assert climatology.window(day, cutoff=day).size == 24 * 15


def test_it_only_uses_history_before_the_cutoff():
    climatology = Climatology(HISTORY)
    day = date(2015, 7, 15)
    before = climatology.normal(day, cutoff=day)
    # The day itself and everything after it do not count, whatever they are.
    scrambled = [(d, 200.0 if d >= day else h) for d, h in HISTORY]
    assert Climatology(scrambled).normal(day, cutoff=day) == before
    assert climatology.window(day, cutoff=day).size == 15 * 15 + 7  # 2000-2014, and Jul 8-14 of 2015
    assert climatology_normal(HISTORY, day, cutoff=day) == before


def test_not_enough_history_is_a_clear_error():
    climatology = Climatology(synthetic_history(start=date(2020, 1, 1)))
    with pytest.raises(ClimatologyError, match=r"Jul 15 ±7 days before 2023-07-15 has 52 values from 4 years"):
        climatology.normal(date(2023, 7, 15), cutoff=date(2023, 7, 15))
    assert Climatology(synthetic_history(start=date(2020, 1, 1)), min_years=4).normal(
        date(2023, 7, 15), cutoff=date(2023, 7, 15)
    )
    with pytest.raises(ClimatologyError, match="needs 30 values"):
        Climatology([]).normal(date(2023, 7, 15), cutoff=date(2023, 7, 15))


def test_feb_29_sits_between_feb_28_and_mar_1():
    assert seasonal_position(date(2024, 2, 28)) == 58.0
    assert seasonal_position(date(2024, 2, 29)) == 58.5
    assert seasonal_position(date(2024, 3, 1)) == seasonal_position(date(2023, 3, 1)) == 59.0
    assert seasonal_position(date(2024, 12, 31)) == 364.0
    leap_day = [(date(2020, 2, 29), 99.0)]
    climatology = Climatology(leap_day, window_days=7)
    assert climatology.window(date(2023, 3, 7), cutoff=date(2024, 1, 1)).tolist() == [99.0]  # 6.5 days away
    assert climatology.window(date(2023, 3, 8), cutoff=date(2024, 1, 1)).size == 0  # 7.5 days away
    # A leap day has a climatology like any other day.
    forecast = Climatology(HISTORY).normal(date(2024, 2, 29), cutoff=date(2024, 2, 29))
    assert forecast.mu == pytest.approx(seasonal(np.arange(-7, 8) + 58.5).mean(), abs=0.6)


def test_the_window_wraps_around_new_year():
    history = [(date(2020, 12, 27), 30.0), (date(2020, 12, 25), 10.0), (date(2021, 1, 9), 50.0)]
    assert Climatology(history).window(date(2022, 1, 2), cutoff=date(2022, 1, 1)).tolist() == [30.0, 50.0]


def test_contradictory_history_is_refused():
    Climatology([(date(2020, 1, 1), 40.0), (date(2020, 1, 1), 40.0)])
    with pytest.raises(ClimatologyError, match="two different highs for 2020-01-01"):
        Climatology([(date(2020, 1, 1), 40.0), (date(2020, 1, 1), 41.0)])
    with pytest.raises(ClimatologyError, match="not finite"):
        Climatology([(date(2020, 1, 1), math.nan)])


def test_the_bracket_position_baseline_counts_winners_with_laplace_smoothing():
    events: list[list[int]] = [[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [True, False, False, False]]
    # wins (1, 2, 1, 0) over 4 events: (w + 1)/(4 + 4).
    assert bracket_position_baseline(events, 4) == pytest.approx([2 / 8, 3 / 8, 2 / 8, 1 / 8])
    assert bracket_position_baseline(events, 4, smoothing=0) == pytest.approx([1 / 4, 2 / 4, 1 / 4, 0])
    assert bracket_position_baseline([], 6) == pytest.approx([1 / 6] * 6)
    assert bracket_position_baseline([], 3, smoothing=0) == pytest.approx([1 / 3] * 3)


def test_events_with_another_number_of_brackets_are_skipped_or_mapped():
    events = [[0, 1, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 1, 0]]
    assert bracket_position_baseline(events, 4, smoothing=0) == pytest.approx([0, 1, 0, 0])
    # Mapped: six rungs' interior rung 2 covers [1/4, 1/2) → target rung 1; a tail to the tail;
    # three rungs' only interior rung covers [0, 1) → half to each of the target's interior rungs.
    mapped = bracket_position_baseline(events, 4, smoothing=0, other_sizes="map")
    assert mapped == pytest.approx([0, 2.5 / 4, 0.5 / 4, 1 / 4])
    assert bracket_position_baseline([[0, 1, 0]], 2, smoothing=0, other_sizes="map") == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("event", [[0, 0, 0, 0], [1, 0, 1, 0]])
def test_a_past_event_needs_exactly_one_winner(event):
    with pytest.raises(ValueError, match="needs exactly one"):
        bracket_position_baseline([[1, 0, 0, 0], event], 4)


def test_persistence_by_hand():
    recent = [(date(2024, 7, 1), 80.0), (date(2024, 7, 2), 84.0), (date(2024, 7, 3), 82.0), (date(2024, 7, 4), 99.0)]
    forecast = persistence_normal(recent, date(2024, 7, 4), half_life_days=1.0)
    # Weights 1/4, 1/2, 1 by age; the Jul 4 value is not known yet for Jul 4; changes +4, -2.
    assert forecast.mu == pytest.approx((80 / 4 + 84 / 2 + 82) / 1.75)
    assert forecast.sigma == pytest.approx(math.sqrt((16 + 4) / 2))


def test_persistence_follows_the_seasonal_drift_and_widens_with_lead():
    recent = [(date(2024, 7, 1), 80.0), (date(2024, 7, 2), 84.0), (date(2024, 7, 3), 84.0)]

    def drift(day):
        return 70.0 + (day - date(2024, 7, 1)).days

    forecast = persistence_normal(recent, date(2024, 7, 6), seasonal_mean=drift, half_life_days=1.0)
    # Anomalies 10, 13, 12 (weighted (10/4 + 13/2 + 12)/1.75 = 12); seasonal mean on Jul 6 is 75.
    assert forecast.mu == pytest.approx(75.0 + 12.0)
    # Anomaly changes +3, -1: RMS √5, over 3 days of lead.
    assert forecast.sigma == pytest.approx(math.sqrt(5.0) * math.sqrt(3.0))


def test_persistence_uses_the_last_n_and_floors_sigma():
    recent = [(date(2024, 6, 1) + timedelta(days=i), 70.0 + (i % 2) * 30) for i in range(20)]
    recent += [(date(2024, 6, 21), 75.0), (date(2024, 6, 22), 75.0)]
    forecast = persistence_normal(recent, date(2024, 6, 23), n=2)
    assert (forecast.mu, forecast.sigma) == (75.0, 1.0)


def test_persistence_needs_two_consecutive_days():
    with pytest.raises(ClimatologyError, match="consecutive days"):
        persistence_normal([(date(2024, 7, 1), 80.0), (date(2024, 7, 3), 82.0)], date(2024, 7, 4))
    with pytest.raises(ClimatologyError, match="consecutive days"):
        persistence_normal([(date(2024, 7, 5), 80.0), (date(2024, 7, 6), 82.0)], date(2024, 7, 4))


def test_persistence_with_a_climatology_on_a_synthetic_series():
    climatology = Climatology(HISTORY)
    target = date(2023, 4, 20)  # spring warms about a third of a degree a day
    recent = [(d, h) for d, h in HISTORY if target - timedelta(days=7) <= d < target]
    forecast = persistence_normal(recent, target, seasonal_mean=climatology.seasonal_mean(cutoff=target))
    assert forecast.mu == pytest.approx(seasonal(seasonal_position(target)), abs=4.0)
    assert 3.0 < forecast.sigma < 7.0  # day-to-day changes of N(0, 3²) noise: about 3√2
