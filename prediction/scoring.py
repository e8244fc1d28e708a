"""Scores of probabilistic forecasts of Kalshi events, and their uncertainty.

Bracket forecasts arrive per event: ``forecasts[e][k]`` is the probability of
event e's k-th market and ``outcomes[e][k]`` is 1 if that market won, else 0.
Brier score and log loss are means over markets (each market is a binary
contract); bootstrap intervals resample whole events, because the markets of
one event share one outcome and are far from independent.

Pure: no Django, no clock; randomness only from a seeded numpy Generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from prediction.distributions import Distribution

FloatArray = npt.NDArray[np.float64]

# Log loss clips probabilities to [ε, 1 - ε]: a confident miss costs -log(1e-6) ≈ 13.8
# nats instead of infinity, so one market cannot swamp a season's average.
LOG_LOSS_EPSILON = 1e-6
# Kalshi's smallest price is 1¢: a bracket without a trade is worth at least that.
MIN_PRICE = 0.01
_BOOTSTRAP_CHUNK = 256  # resamples drawn at once (bounds memory at chunk-by-events)


class ScoringError(ValueError):
    """Forecasts and outcomes that do not line up, or values out of range."""


def _flatten(forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]]) -> tuple[FloatArray, FloatArray]:
    if len(forecasts) != len(outcomes):
        raise ScoringError(f"{len(forecasts)} forecast events but {len(outcomes)} outcome events")
    for index, (event_p, event_o) in enumerate(zip(forecasts, outcomes, strict=True)):
        if len(event_p) != len(event_o) or not event_p:
            raise ScoringError(f"event {index}: {len(event_p)} probabilities for {len(event_o)} outcomes")
    p = np.array([x for event in forecasts for x in event], dtype=float)
    o = np.array([x for event in outcomes for x in event], dtype=float)
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ScoringError("probabilities must be finite and in [0, 1]")
    if not np.all((o == 0) | (o == 1)):
        raise ScoringError("outcomes must be 0 or 1")
    return p, o


def _per_event(values: FloatArray, forecasts: Sequence[Sequence[float]]) -> list[list[float]]:
    sizes = np.cumsum([len(event) for event in forecasts])[:-1]
    return [chunk.tolist() for chunk in np.split(values, sizes)]


def brier_losses(forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]]) -> list[list[float]]:
    """(p - o)² per market, per event."""
    p, o = _flatten(forecasts, outcomes)
    return _per_event((p - o) ** 2, forecasts)


def log_losses(
    forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]], *, epsilon: float = LOG_LOSS_EPSILON
) -> list[list[float]]:
    """-[o log p + (1 - o) log(1 - p)] per market, per event, with p clipped to [ε, 1 - ε]."""
    p, o = _flatten(forecasts, outcomes)
    clipped = np.clip(p, epsilon, 1.0 - epsilon)
    return _per_event(-(o * np.log(clipped) + (1.0 - o) * np.log1p(-clipped)), forecasts)


def _mean(losses: list[list[float]]) -> float:
    return math.fsum(x for event in losses for x in event) / sum(len(event) for event in losses)


def brier_score(forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]]) -> float:
    """Mean over all markets of (p - o)²."""
    return _mean(brier_losses(forecasts, outcomes))


def log_loss(
    forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]], *, epsilon: float = LOG_LOSS_EPSILON
) -> float:
    """Mean over all markets of the binary log loss (nats), probabilities clipped at ``epsilon``."""
    return _mean(log_losses(forecasts, outcomes, epsilon=epsilon))


def normalise_prices(prices: Sequence[float | Decimal | None], *, min_price: float = MIN_PRICE) -> list[float]:
    """An event's market prices (dollars, 0-1) as probabilities summing to 1: the market baseline.

    Last trades of an event's brackets rarely sum to 1 (spread, stale trades).
    A missing price (no trade yet) gets the share of the mass the known prices
    leave unclaimed, (1 - Σ known) / n_missing, but at least ``min_price``;
    then everything is divided by its sum. Without any usable mass the result is
    uniform.
    """
    if not prices:
        raise ScoringError("an event needs at least one market price")
    known = [None if p is None else float(p) for p in prices]
    if any(p is not None and not 0.0 <= p <= 1.0 for p in known):
        raise ScoringError(f"prices must be in [0, 1] dollars, got {known}")
    missing = sum(p is None for p in known)
    claimed = math.fsum(p for p in known if p is not None)
    stand_in = max((1.0 - claimed) / missing, min_price) if missing else 0.0
    filled = [stand_in if p is None else p for p in known]
    total = math.fsum(filled)
    if total <= 0.0:
        return [1.0 / len(filled)] * len(filled)
    return [p / total for p in filled]


def crps(distribution: Distribution, observed: float) -> float:
    """CRPS (°F) of a continuous forecast of the high against the observed high."""
    return distribution.crps(observed)


def mean_crps(distributions: Sequence[Distribution], observed: Sequence[float]) -> float:
    if len(distributions) != len(observed) or not distributions:
        raise ScoringError(f"{len(distributions)} forecasts for {len(observed)} observations")
    return math.fsum(d.crps(y) for d, y in zip(distributions, observed, strict=True)) / len(observed)


def absolute_error(distribution: Distribution, observed: float) -> float:
    """|median - observed|: the median is the point forecast that absolute error rewards."""
    return abs(distribution.median() - observed)


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_predicted: float | None  # None for an empty bin
    observed_frequency: float | None


def reliability_table(
    forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]], *, n_bins: int = 10
) -> list[ReliabilityBin]:
    """Markets binned by predicted probability into ``n_bins`` equal bins [k/n, (k+1)/n) (1.0 in the last)."""
    if n_bins < 1:
        raise ScoringError(f"n_bins must be ≥ 1, got {n_bins}")
    p, o = _flatten(forecasts, outcomes)
    index = np.minimum((p * n_bins).astype(int), n_bins - 1)
    table = []
    for k in range(n_bins):
        members = index == k
        count = int(members.sum())
        table.append(
            ReliabilityBin(
                lower=k / n_bins,
                upper=(k + 1) / n_bins,
                count=count,
                mean_predicted=float(p[members].mean()) if count else None,
                observed_frequency=float(o[members].mean()) if count else None,
            )
        )
    return table


def expected_calibration_error(
    forecasts: Sequence[Sequence[float]], outcomes: Sequence[Sequence[int]], *, n_bins: int = 10
) -> float:
    """ECE = Σ_bins (count / N) · |mean predicted - observed frequency|."""
    table = reliability_table(forecasts, outcomes, n_bins=n_bins)
    total = sum(b.count for b in table)
    return math.fsum(
        b.count / total * abs(b.mean_predicted - b.observed_frequency)
        for b in table
        if b.mean_predicted is not None and b.observed_frequency is not None
    )


@dataclass(frozen=True)
class Score:
    """A mean score over markets with its bootstrap percentile interval (events resampled)."""

    value: float
    low: float
    high: float
    confidence: float
    n_events: int
    n_markets: int  # or items: one per event for a continuous score such as CRPS


def _event_totals(losses: Sequence[Sequence[float]]) -> tuple[FloatArray, FloatArray]:
    if not losses or any(len(event) == 0 for event in losses):
        raise ScoringError("bootstrapping needs at least one event, and every event at least one market")
    sums = np.array([math.fsum(event) for event in losses], dtype=float)
    counts = np.array([len(event) for event in losses], dtype=float)
    if not np.all(np.isfinite(sums)):
        raise ScoringError("losses must be finite")
    return sums, counts


def _bootstrap(
    sums: FloatArray, counts: FloatArray, *, seed: int | np.random.Generator, n_resamples: int, confidence: float
) -> tuple[float, float]:
    """Percentile interval of Σ sums / Σ counts over events drawn with replacement."""
    if n_resamples < 1 or not 0.0 < confidence < 1.0:
        raise ScoringError(f"need n_resamples ≥ 1 and confidence in (0, 1), got {n_resamples}, {confidence}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = sums.size
    stats = []
    for start in range(0, n_resamples, _BOOTSTRAP_CHUNK):
        idx = rng.integers(0, n, size=(min(_BOOTSTRAP_CHUNK, n_resamples - start), n))
        stats.append(sums[idx].sum(axis=1) / counts[idx].sum(axis=1))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.concatenate(stats), [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_score(
    losses: Sequence[Sequence[float]],
    *,
    seed: int | np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> Score:
    """The mean of per-market ``losses`` (e.g. `brier_losses`) with an interval from resampled events."""
    sums, counts = _event_totals(losses)
    low, high = _bootstrap(sums, counts, seed=seed, n_resamples=n_resamples, confidence=confidence)
    value = float(sums.sum() / counts.sum())
    return Score(value, low, high, confidence, n_events=sums.size, n_markets=int(counts.sum()))


def bootstrap_difference(
    losses_a: Sequence[Sequence[float]],
    losses_b: Sequence[Sequence[float]],
    *,
    seed: int | np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> Score:
    """mean(a) - mean(b) for two forecasters scored on the same markets, events resampled in pairs.

    Negative means a scores lower (better, for losses) than b. The same
    resampled events feed both, so their shared difficulty cancels out.
    """
    if [len(e) for e in losses_a] != [len(e) for e in losses_b]:
        raise ScoringError("paired scores need the same events and markets for both forecasters")
    sums_a, counts = _event_totals(losses_a)
    sums_b, _ = _event_totals(losses_b)
    difference = sums_a - sums_b
    low, high = _bootstrap(difference, counts, seed=seed, n_resamples=n_resamples, confidence=confidence)
    value = float(difference.sum() / counts.sum())
    return Score(value, low, high, confidence, n_events=difference.size, n_markets=int(counts.sum()))
