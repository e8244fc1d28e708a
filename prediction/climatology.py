"""Baselines that need no forecast: climatology, bracket positions, persistence.

- `Climatology`: the distribution of the daily high on a calendar day, from
  every earlier year's values within ±k days of it (circular over the year).
- `bracket_position_baseline`: how often each rung of the ladder (lower tail,
  …, upper tail) won in earlier events.
- `persistence_normal`: the last few observed highs, carried forward along the
  seasonal cycle; the honest fallback for days with no point-in-time forecast.

Everything takes the history known at the decision time from its caller (the
climatology also takes a cutoff date and ignores anything on or after it).
Pure: no Django, no clock, no randomness.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

from prediction.distributions import SIGMA_FLOOR_F, Normal

DEFAULT_WINDOW_DAYS = 7
DEFAULT_MIN_YEARS = 5
DEFAULT_MIN_VALUES = 30
_YEAR = 365.0
_FEB_29 = 58.5  # between Feb 28 (58) and Mar 1 (59), counted from Jan 1 = 0 in a common year


class ClimatologyError(ValueError):
    """Not enough history, or history that contradicts itself."""


def seasonal_position(day: date) -> float:
    """Day of a common (365-day) year from Jan 1 = 0; Feb 29 sits halfway between Feb 28 and Mar 1.

    So a leap year's dates after February line up with the same calendar dates
    of other years, and Feb 29 falls in the windows of the days around it.
    """
    if day.month == 2 and day.day == 29:
        return _FEB_29
    return float(date(2001, day.month, day.day).timetuple().tm_yday - 1)


def _circular_distance(positions: npt.NDArray[np.float64], centre: float) -> npt.NDArray[np.float64]:
    gap = np.abs(positions - centre) % _YEAR
    return np.minimum(gap, _YEAR - gap)


def _deduplicated(history: Iterable[tuple[date, float]]) -> dict[date, float]:
    values: dict[date, float] = {}
    for day, high in history:
        high = float(high)
        if not math.isfinite(high):
            raise ClimatologyError(f"the high of {day} is not finite: {high}")
        if values.setdefault(day, high) != high:
            raise ClimatologyError(f"two different highs for {day}: {values[day]} and {high}")
    return values


class Climatology:
    """Day-of-year climatology of daily highs: build once from a history, ask for any day and cutoff.

    ``normal(day, cutoff=...)`` uses the values of every date before ``cutoff``
    whose calendar day is within ±``window_days`` of ``day``'s (circularly, so
    late December and early January share a window), and returns
    N(mean, sd²) with sd the sample standard deviation floored at
    ``sigma_floor``. Fewer than ``min_years`` distinct years or ``min_values``
    values raise ClimatologyError. The mean does not follow any trend across
    years: it is the plain average of the window.
    """

    def __init__(
        self,
        history: Iterable[tuple[date, float]],
        *,
        window_days: int = DEFAULT_WINDOW_DAYS,
        min_years: int = DEFAULT_MIN_YEARS,
        min_values: int = DEFAULT_MIN_VALUES,
        sigma_floor: float = SIGMA_FLOOR_F,
    ) -> None:
        if not 0 <= window_days < 183:
            raise ClimatologyError(f"window_days must be in [0, 182], got {window_days}")
        values = _deduplicated(history)
        days = sorted(values)
        self.window_days = window_days
        self.min_years = max(1, min_years)
        self.min_values = max(2, min_values)
        self.sigma_floor = sigma_floor
        self._ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
        self._years = np.array([d.year for d in days], dtype=np.int64)
        self._positions = np.array([seasonal_position(d) for d in days], dtype=float)
        self._highs = np.array([values[d] for d in days], dtype=float)

    def _mask(self, day: date, cutoff: date) -> npt.NDArray[np.bool_]:
        known = self._ordinals < cutoff.toordinal()
        return known & (_circular_distance(self._positions, seasonal_position(day)) <= self.window_days)

    def window(self, day: date, *, cutoff: date) -> npt.NDArray[np.float64]:
        """The highs before ``cutoff`` within the calendar window around ``day``."""
        return self._highs[self._mask(day, cutoff)]

    def normal(self, day: date, *, cutoff: date) -> Normal:
        mask = self._mask(day, cutoff)
        selected = self._highs[mask]
        years = np.unique(self._years[mask]).size
        if years < self.min_years or selected.size < self.min_values:
            raise ClimatologyError(
                f"climatology of {day:%b %d} ±{self.window_days} days before {cutoff} has {selected.size} values "
                f"from {years} years; it needs {self.min_values} values from {self.min_years} years"
            )
        return Normal.with_floor(float(selected.mean()), float(selected.std(ddof=1)), floor=self.sigma_floor)

    def seasonal_mean(self, *, cutoff: date) -> Callable[[date], float]:
        """day → climatological mean high as known at ``cutoff`` (for `persistence_normal`)."""
        return lambda day: self.normal(day, cutoff=cutoff).mu


def climatology_normal(
    history: Iterable[tuple[date, float]],
    day: date,
    *,
    cutoff: date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_years: int = DEFAULT_MIN_YEARS,
    min_values: int = DEFAULT_MIN_VALUES,
    sigma_floor: float = SIGMA_FLOOR_F,
) -> Normal:
    """One-off `Climatology(history, ...).normal(day, cutoff=cutoff)`; build a Climatology to ask many days."""
    climatology = Climatology(
        history, window_days=window_days, min_years=min_years, min_values=min_values, sigma_floor=sigma_floor
    )
    return climatology.normal(day, cutoff=cutoff)


def bracket_position_baseline(
    past_events: Iterable[Sequence[bool | int]],
    n_brackets: int,
    *,
    smoothing: float = 1.0,
    other_sizes: Literal["skip", "map"] = "skip",
) -> list[float]:
    """P(each rung wins) for a new event of ``n_brackets`` rungs, from how often each rung won before.

    Each past event lists its outcomes (1 for the winner) from the lowest
    bracket (lower tail) to the highest (upper tail) and must have exactly one
    winner. With Laplace (add-``smoothing``) smoothing the result is
    (wins_k + smoothing) / (N + smoothing·K), K = n_brackets: with the default
    smoothing of 1 no rung gets 0, and with no usable events the result is
    uniform. Events with another number of rungs are skipped (``"skip"``, the
    default: ladders of another shape are another market), or with ``"map"``
    a tail's win counts for the same tail and an interior win is shared among
    the target's interior rungs in proportion to their overlap with its
    relative place among its own interior rungs (all to the tails, half each,
    if the target has none).
    """
    if n_brackets < 2:
        raise ValueError(f"an event has at least two brackets, got {n_brackets}")
    if smoothing < 0:
        raise ValueError(f"smoothing must be ≥ 0, got {smoothing}")
    wins = np.zeros(n_brackets)
    for index, outcomes in enumerate(past_events):
        winners = [k for k, won in enumerate(outcomes) if won]
        if len(winners) != 1:
            raise ValueError(f"past event {index} has {len(winners)} winners; it needs exactly one")
        if len(outcomes) == n_brackets:
            wins[winners[0]] += 1.0
        elif other_sizes == "map":
            wins += _mapped_win(winners[0], len(outcomes), n_brackets)
    total = wins.sum() + smoothing * n_brackets
    if total == 0:
        return [1.0 / n_brackets] * n_brackets
    return [float(w) for w in (wins + smoothing) / total]


def _mapped_win(position: int, size: int, target: int) -> npt.NDArray[np.float64]:
    share = np.zeros(target)
    if position == 0 or position == size - 1:
        share[0 if position == 0 else target - 1] = 1.0
        return share
    if target == 2:
        share[:] = 0.5
        return share
    # The winner covers [(i-1)/(n-2), i/(n-2)) of the interior; target rung j covers [(j-1)/(K-2), j/(K-2)).
    low, high = (position - 1) / (size - 2), position / (size - 2)
    edges = np.linspace(0.0, 1.0, target - 1)
    overlap = np.clip(np.minimum(edges[1:], high) - np.maximum(edges[:-1], low), 0.0, None)
    share[1 : target - 1] = overlap / (high - low)
    return share


def persistence_normal(
    recent: Sequence[tuple[date, float]],
    target: date,
    *,
    seasonal_mean: Callable[[date], float] | None = None,
    n: int = 7,
    half_life_days: float = 2.0,
    sigma_floor: float = SIGMA_FLOOR_F,
) -> Normal:
    """N(mu, sigma²) for ``target`` from the last ``n`` observed highs before it.

    mu = seasonal(target) + Σ w_i (y_i - seasonal(d_i)) / Σ w_i: each recent
    high carried along the climatological seasonal drift to the target day,
    weighted by w_i = 0.5^(age_i / half_life_days), age counted back from the
    latest observation. Without ``seasonal_mean`` there is no drift.
    sigma = RMS of the day-to-day changes of those anomalies (consecutive dates
    only) times sqrt(lead days from the latest observation), at least the floor: the
    spread of a random walk, which is honest for a day or two; beyond that
    climatology usually beats persistence.

    Raises ClimatologyError without two observations on consecutive days.
    """
    values = _deduplicated(recent)
    days = sorted(d for d in values if d < target)[-n:]
    seasonal = seasonal_mean or (lambda _day: 0.0)
    anomalies = {d: values[d] - seasonal(d) for d in days}
    changes = [anomalies[b] - anomalies[a] for a, b in itertools.pairwise(days) if (b - a).days == 1]
    if not changes:
        raise ClimatologyError(
            f"persistence needs two observed highs on consecutive days among the last {n} before {target}"
        )
    latest = days[-1]
    weights = np.array([0.5 ** ((latest - d).days / half_life_days) for d in days])
    anomaly = float(np.dot(weights, [anomalies[d] for d in days]) / weights.sum())
    lead = (target - latest).days
    spread = math.sqrt(math.fsum(c * c for c in changes) / len(changes)) * math.sqrt(lead)
    return Normal.with_floor(seasonal(target) + anomaly, spread, floor=sigma_floor)
