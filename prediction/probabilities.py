"""Bracket probabilities from a predictive distribution of the day's high.

The CLI reports the high in whole °F, so bracket {low..high} wins when the
continuous high X rounds into it: X in [low - 0.5, high + 0.5)
(`Bracket.continuous_edges`; a forecast of 44.6 belongs to {44, 45}). The
lower tail ``less 80`` is {≤ 79} = (-inf, 79.5), the upper tail ``greater 87``
is {≥ 88} = [87.5, inf).

Pure: no Django, no clock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from markets.brackets import Bracket
from prediction.distributions import Distribution, truncated_below

# Probabilities of a partition are computed one bracket at a time; their sum
# drifts from 1 by rounding only (~1e-15). More than this means a bug, not drift.
SUM_TOLERANCE = 1e-9


class LadderError(ValueError):
    """The brackets of one event do not partition the real line."""


class ProbabilityError(ArithmeticError):
    """Bracket probabilities came out invalid (NaN, negative, or not summing to 1)."""


def check_ladder(brackets: Sequence[Bracket]) -> None:
    """Raise LadderError naming the offending bracket unless the brackets partition the whole numbers.

    In any order: exactly one lower tail, one upper tail, and between them
    brackets that follow one another with no gap and no overlap.
    """
    if len(brackets) < 2:
        raise LadderError(f"an event needs at least a lower and an upper tail, got {list(brackets)}")
    ordered = sorted(brackets, key=_sort_key)
    first, last = ordered[0], ordered[-1]
    if first.low is not None:
        raise LadderError(f"no lower tail: the lowest bracket is {first.label()!r} ({first})")
    if last.high is not None:
        raise LadderError(f"no upper tail: the highest bracket is {last.label()!r} ({last})")
    for previous, current in itertools.pairwise(ordered):
        if previous.high is None or current.low is None:
            raise LadderError(f"{current.label()!r} ({current}) overlaps {previous.label()!r} ({previous})")
        if current.low <= previous.high:
            raise LadderError(f"{current.label()!r} ({current}) overlaps {previous.label()!r} ({previous})")
        if current.low > previous.high + 1:
            raise LadderError(
                f"gap before {current.label()!r} ({current}): values {previous.high + 1}..{current.low - 1} "
                "belong to no bracket"
            )


def _sort_key(bracket: Bracket) -> tuple[float, float]:
    return bracket.continuous_edges()


def bracket_probability(distribution: Distribution, bracket: Bracket, *, running_max: float | None = None) -> float:
    """P(the CLI high falls in ``bracket``), optionally given the running maximum (see bracket_probabilities)."""
    if running_max is not None:
        distribution = truncated_below(distribution, running_max)
    lower, upper = bracket.continuous_edges()
    return _checked(distribution.probability_between(lower, upper), bracket)


def _checked(probability: float, bracket: Bracket) -> float:
    if math.isnan(probability) or probability < -SUM_TOLERANCE or probability > 1.0 + SUM_TOLERANCE:
        raise ProbabilityError(f"probability {probability} for {bracket.label()!r} is not in [0, 1]")
    return min(1.0, max(0.0, probability))


def bracket_probabilities(
    distribution: Distribution, brackets: Sequence[Bracket], *, running_max: float | None = None
) -> list[float]:
    """One probability per bracket, in the order given, summing to 1.

    ``brackets`` are the markets of one event and must partition the line
    (LadderError names the offending bracket otherwise). Each probability is
    P(low - 0.5 ≤ X < high + 0.5); the sum is checked to be 1 within
    SUM_TOLERANCE and divided out exactly (rounding only).

    With the running maximum ``m`` observed so far on the climate day, the
    distribution is conditioned on X ≥ m. Every bracket entirely below m (upper
    edge high + 0.5 ≤ m; for a whole-degree m, every bracket of values below m)
    gets exactly 0, and each cumulative probability from the bottom can only
    fall. A fractional m (a reading converted from °C) keeps the bracket it
    rounds into: a high of 84.3 so far may still end at 84.4, reported as 84.

    Why X ≥ m and not X ≥ m - 0.5, although the CLI rounds the station's value?
    X is the continuous high on the station's own scale, the quantity that gets
    rounded; the running maximum is a reading of that same quantity, not a
    rounded CLI outcome, so the day's high is at least that reading: X ≥ m.
    When the reading itself arrives in whole °F (true value somewhere in
    [m - 0.5, m + 0.5), centred on m), m is still the best single threshold:
    m - 0.5 would assume the true reading was the lowest it could have been and
    keep mass on [m - 0.5, m), which the station has most likely already
    passed. Either threshold zeroes the same brackets (all values below m); they
    differ only in how the bracket that contains m shares mass with those above.
    """
    check_ladder(brackets)
    if running_max is not None:
        distribution = truncated_below(distribution, running_max)
    probabilities = [bracket_probability(distribution, bracket) for bracket in brackets]
    total = math.fsum(probabilities)
    if not abs(total - 1.0) <= SUM_TOLERANCE:
        raise ProbabilityError(f"bracket probabilities sum to {total}, not 1: {probabilities}")
    return [p / total for p in probabilities]


def probabilities_by_ticker(
    distribution: Distribution, markets: Iterable[tuple[str, Bracket]], *, running_max: float | None = None
) -> dict[str, float]:
    """{ticker: probability} for the (ticker, bracket) pairs of one event; tickers must be unique."""
    pairs = list(markets)
    tickers = [ticker for ticker, _ in pairs]
    duplicates = sorted({t for t in tickers if tickers.count(t) > 1})
    if duplicates:
        raise LadderError(f"duplicate tickers in one event: {duplicates}")
    probabilities = bracket_probabilities(distribution, [b for _, b in pairs], running_max=running_max)
    return dict(zip(tickers, probabilities, strict=True))


def bracket_outcomes(brackets: Sequence[Bracket], settled_high: int) -> list[int]:
    """1 for the bracket that contains the settled whole-degree high, 0 for the others (scoring's o)."""
    check_ladder(brackets)
    return [int(bracket.contains(settled_high)) for bracket in brackets]
