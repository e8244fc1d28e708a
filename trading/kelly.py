"""Kelly stakes for the brackets of one event, sized together as mutually exclusive outcomes.

An event's brackets are exclusive: exactly one resolves YES. A YES contract on
bracket i pays $1 in outcome i; a NO contract pays $1 in every outcome but i.
Sizing each bet alone would stake on "bracket 3 YES" and "bracket 4 YES" as
if both could win, so the stakes are chosen together to maximise the expected
log of wealth over the event's outcomes, counting what is already held:

    W_j = bankroll + held_j + sum_k s_k·(pays_kj / cost_k - 1)

for stakes s_k >= 0 that keep every W_j positive and that the bankroll can pay
for (sum_k s_k <= bankroll: contracts are paid for up front, so even a set of
bets that wins in every outcome cannot be staked without bound). The objective
is concave; cyclic coordinate ascent (each step an exact one-dimensional
maximisation) converges to its optimum. For one bet it gives the
textbook (p - c) / (1 - c); for YES bets alone the horse-race solution.

Fractional Kelly at fraction f is this optimum on a bankroll of f times the
real one. Probabilities are floats (they are not money); the caller turns
stakes into whole contracts with Decimal prices.

Pure: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_PROBABILITY = 1e-4  # no outcome is treated as impossible: that would stake everything against it
PASSES = 500
TOLERANCE = 1e-12
SLOPE_TOLERANCE = 1e-13
STEPS = 100  # Newton steps with bisection fallback: a handful suffice


@dataclass(frozen=True)
class Bet:
    """One contract type: the outcomes it pays $1 in, and its all-in cost per contract (price + fee)."""

    pays: frozenset[int]
    cost: float

    def __post_init__(self) -> None:
        if not 0 < self.cost < 1:
            raise ValueError(f"a contract's cost must be inside (0, 1), got {self.cost}")


def kelly_stakes(
    probabilities: Sequence[float],
    bets: Sequence[Bet],
    *,
    bankroll: float,
    held: Sequence[float] | None = None,
) -> list[float]:
    """Dollars to stake on each bet, maximising E[log wealth] over the exclusive outcomes.

    ``held[j]`` is what positions already held pay in outcome j. Returns zeros
    when no bet has an edge (or the bankroll is not positive).
    """
    if bankroll <= 0 or not bets:
        return [0.0] * len(bets)
    p = _floored(probabilities)
    base = [bankroll + (held[j] if held is not None else 0.0) for j in range(len(p))]
    gains = [[(1.0 / bet.cost if j in bet.pays else 0.0) - 1.0 for j in range(len(p))] for bet in bets]
    stakes = [0.0] * len(bets)
    wealth = list(base)
    for _ in range(PASSES):
        moved = 0.0
        for k, gain in enumerate(gains):
            without = [w - stakes[k] * g for w, g in zip(wealth, gain, strict=True)]
            budget = bankroll - (sum(stakes) - stakes[k])
            best = _best_stake(p, without, gain, budget)
            moved = max(moved, abs(best - stakes[k]))
            stakes[k] = best
            wealth = [w + best * g for w, g in zip(without, gain, strict=True)]
        if moved <= TOLERANCE * bankroll:
            break
    return stakes


def _floored(probabilities: Sequence[float]) -> list[float]:
    if not probabilities or any(not math.isfinite(x) or x < 0 for x in probabilities):
        raise ValueError(f"probabilities must be finite and non-negative, got {list(probabilities)}")
    floored = [max(x, MIN_PROBABILITY) for x in probabilities]
    total = sum(floored)
    return [x / total for x in floored]


def _best_stake(p: Sequence[float], wealth: Sequence[float], gain: Sequence[float], budget: float) -> float:
    """The stake 0 <= t <= budget maximising sum_j p_j·log(wealth_j + t·gain_j).

    The objective is concave, so its slope falls from positive to negative
    across the optimum: Newton's method on the slope, kept inside the bracket
    where the slope changes sign (a bisection step whenever Newton would leave
    it), finds it in a handful of steps.
    """

    def slopes(t: float) -> tuple[float, float]:
        first = second = 0.0
        for pj, w, g in zip(p, wealth, gain, strict=True):
            ratio = g / (w + t * g)
            first += pj * ratio
            second -= pj * ratio * ratio
        return first, second

    if budget <= 0 or slopes(0.0)[0] <= 0:
        return 0.0
    ruin = min((w / -g for w, g in zip(wealth, gain, strict=True) if g < 0), default=math.inf)
    if budget < ruin and slopes(budget)[0] >= 0:
        return budget
    low, high = 0.0, min(ruin, budget)  # at ``ruin`` wealth in some outcome reaches zero
    t = 0.0
    for _ in range(STEPS):
        first, second = slopes(t)
        if abs(first) <= SLOPE_TOLERANCE:
            return t
        if first > 0:
            low = t
        else:
            high = t
        if high - low <= TOLERANCE * max(1.0, high):
            break
        step = t - first / second
        t = step if low < step < high else (low + high) / 2
    return low  # the largest stake known to be short of the optimum: never more than Kelly
