"""Expected value after fees, the probability a strategy sizes on, and Kelly stakes as whole contracts.

Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from markets.schemas.enums import Side
from trading.decisions import EventView, MarketView, Portfolio
from trading.fees import FeeSchedule
from trading.kelly import Bet, kelly_stakes

ZERO = Decimal(0)
ONE = Decimal(1)
PROBABILITY_PLACES = Decimal("0.000001")


def as_decimal(probability: float) -> Decimal:
    """A probability as an exact Decimal to six places, for arithmetic with money."""
    return Decimal(repr(probability)).quantize(PROBABILITY_PLACES)


def shrunk(model: float, market: float | None, weight: Decimal) -> float:
    """The model's probability moved toward the market's by ``weight`` (0: the model, 1: the market)."""
    if market is None:
        return model
    w = float(weight)
    return (1 - w) * model + w * market


def win_probability(p_yes: float, buy: Side) -> float:
    return p_yes if buy is Side.YES else 1 - p_yes


def expected_value(
    p_yes: float, buy: Side, price: Decimal, count: Decimal, fees: FeeSchedule, *, taker: bool, at: datetime
) -> Decimal:
    """Dollars per contract that buying ``count`` of ``buy`` at ``price`` is expected to earn, after the order's fee.

    The fee is the whole order's, rounded up: a small order pays proportionally more.
    """
    fee = fees.fee(count, price, taker=taker, at=at)
    return as_decimal(win_probability(p_yes, buy)) - price - fee / count


@dataclass(frozen=True)
class Candidate:
    """A contract a strategy would buy, before sizing: which, at what price, on what probability."""

    market: MarketView
    buy: Side
    price: Decimal  # the price of the side bought
    taker: bool
    reason: str


def event_probabilities(event: EventView, weight: Decimal) -> list[float] | None:
    """The event's probabilities shrunk toward the market, summing to 1; None without a model forecast."""
    model = [m.probability for m in event.markets]
    if any(p is None for p in model):
        return None
    shrunk_p = [
        shrunk(p, m.market_probability, weight) for p, m in zip(model, event.markets, strict=True) if p is not None
    ]
    total = sum(shrunk_p)
    return [p / total for p in shrunk_p] if total > 0 else None


def kelly_counts(
    event: EventView,
    candidates: Sequence[Candidate],
    probabilities: Sequence[float],
    *,
    portfolio: Portfolio,
    fraction: Decimal,
    at: datetime,
) -> list[Decimal]:
    """Whole contracts to add for each candidate: fractional Kelly over the event's outcomes, counting holdings.

    The bankroll is the portfolio's equity at cost; the stake of a contract is
    its price plus the fee per contract.
    """
    index = {m.ticker: i for i, m in enumerate(event.markets)}
    everything = frozenset(range(len(event.markets)))
    bets, costs = [], []
    for candidate in candidates:
        i = index[candidate.market.ticker]
        cost = candidate.price + event.fees.per_contract(candidate.price, taker=candidate.taker, at=at)
        bets.append(Bet(frozenset({i}) if candidate.buy is Side.YES else everything - {i}, float(cost)))
        costs.append(cost)
    held = _held_payoffs(event, portfolio)
    bankroll = float(portfolio.equity * fraction)
    stakes = kelly_stakes(probabilities, bets, bankroll=bankroll, held=held)
    return [
        (as_decimal(stake) / cost).to_integral_value(rounding=ROUND_FLOOR) if stake > 0 else ZERO
        for stake, cost in zip(stakes, costs, strict=True)
    ]


def _held_payoffs(event: EventView, portfolio: Portfolio) -> list[float]:
    """What the positions already held in the event pay in each of its outcomes, in dollars."""
    payoffs = [0.0] * len(event.markets)
    for i, market in enumerate(event.markets):
        holding = portfolio.holding(market.ticker)
        if holding is None:
            continue
        for j in range(len(payoffs)):
            payoffs[j] += float(holding.yes if i == j else holding.no)
    return payoffs


def floor_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
