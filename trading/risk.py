"""Pre-trade risk: every intent is checked against the limits and the trading state, with a reason.

A verdict approves an order, approves fewer contracts than asked (naming the
limit that binds), or rejects it; it never raises for a normal "no". The
checks run against an :class:`Exposure` that includes what earlier intents of
the same decision reserved, so a decision cannot exceed a limit in pieces.

Dollars at risk are what an order can lose: its own side's price per contract
plus the taker fee. Positions are carried at cost and working orders at what
they may still spend.

Pure: no Django.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from trading.decisions import EventView, MarketView, OrderIntent, Portfolio, side_name
from trading.fees import FeeError
from trading.limits import Limits, TradingStatus

ZERO = Decimal(0)
WHOLE = Decimal(1)


@dataclass(frozen=True)
class Verdict:
    approved: bool
    count: Decimal  # contracts approved (0 when rejected)
    reason: str = ""  # why rejected, or which limits reduced the count


@dataclass
class Exposure:
    """What is at risk now, per market, event, city-day and in total, and what cash is free."""

    contracts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    by_event: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    by_city_day: dict[tuple[str, date], Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    total: Decimal = ZERO
    available: Decimal = ZERO
    day_pnl: Decimal = ZERO
    drawdown: Decimal = ZERO

    @classmethod
    def of(cls, portfolio: Portfolio) -> Exposure:
        exposure = cls(available=portfolio.available, day_pnl=portfolio.day_pnl)
        equity = portfolio.equity
        peak = portfolio.peak_equity if portfolio.peak_equity is not None else equity
        exposure.drawdown = max(ZERO, peak - equity)
        for holding in portfolio.holdings:
            exposure._add(holding.ticker, holding.event_ticker, (holding.city, holding.target_date), holding.cost)
            exposure.contracts[holding.ticker] += holding.yes + holding.no
        for order in portfolio.working:
            exposure._add(order.ticker, order.event_ticker, (order.city, order.target_date), order.reserved)
            exposure.contracts[order.ticker] += order.remaining
        return exposure

    def reserve(self, intent: OrderIntent, event: EventView, count: Decimal, at_risk: Decimal) -> None:
        """Count an approved order, so the next intent of the decision sees it."""
        self._add(intent.ticker, event.event_ticker, (event.city, event.target_date), at_risk)
        self.contracts[intent.ticker] += count
        self.available -= at_risk

    def _add(self, ticker: str, event: str, city_day: tuple[str, date], dollars: Decimal) -> None:
        self.by_event[event] += dollars
        self.by_city_day[city_day] += dollars
        self.total += dollars


def at_risk(intent: OrderIntent, event: EventView, count: Decimal, *, at: datetime) -> Decimal:
    """What ``count`` contracts of the intent can lose: their price plus the taker fee."""
    fee = event.fees.fee(count, intent.own_price, taker=intent.is_taker, at=at) if count > 0 else ZERO
    return count * intent.own_price + fee


def check_order(
    intent: OrderIntent,
    *,
    event: EventView,
    market: MarketView,
    exposure: Exposure,
    limits: Limits,
    status: TradingStatus,
    now: datetime,
) -> Verdict:
    """Approve, reduce or reject one intent. Never raises for a normal "no"."""
    refusal = _refusal(intent, event, market, exposure, limits, status, now)
    if refusal:
        return Verdict(False, ZERO, refusal)
    count, reductions = _fitted_count(intent, event, market, exposure, limits, now)
    if count <= 0:
        return Verdict(False, ZERO, "; ".join(reductions) or "no contracts left to place")
    reason = f"reduced from {intent.count} to {count}: " + "; ".join(reductions) if reductions else ""
    return Verdict(True, count, reason)


def _refusal(
    intent: OrderIntent,
    event: EventView,
    market: MarketView,
    exposure: Exposure,
    limits: Limits,
    status: TradingStatus,
    now: datetime,
) -> str:
    """The reason no contract of the intent may be placed, or "" when some may."""
    if status is TradingStatus.HALTED:
        return "trading is halted"
    if status is TradingStatus.REDUCE_ONLY and not intent.reduce_only:
        return "trading is reduce-only: no new exposure"
    if intent.reduce_only:
        return ""
    price = intent.own_price
    if price < limits.min_price:
        return f"{side_name(intent.buys)} at ${price} is below the minimum price ${limits.min_price}"
    if price > limits.max_price:
        return f"{side_name(intent.buys)} at ${price} is above the maximum price ${limits.max_price}"
    if intent.is_taker:
        seen = market.quote.seen_at(intent.buys)
        if seen is None:
            return f"no {side_name(intent.buys)} price to take"
        if now - seen > limits.max_data_age:
            return f"the {side_name(intent.buys)} price is {_age(now - seen)} old (limit {_age(limits.max_data_age)})"
    if -exposure.day_pnl >= limits.max_daily_loss:
        return f"daily loss ${-exposure.day_pnl:.2f} has reached the limit ${limits.max_daily_loss}"
    if exposure.drawdown >= limits.max_drawdown:
        return f"drawdown ${exposure.drawdown:.2f} has reached the limit ${limits.max_drawdown}"
    try:
        event.fees.rate(taker=intent.is_taker, at=now)
    except FeeError as exc:
        return str(exc)
    return ""


def _fitted_count(
    intent: OrderIntent, event: EventView, market: MarketView, exposure: Exposure, limits: Limits, now: datetime
) -> tuple[Decimal, list[str]]:
    """The most contracts (whole ones) every count and dollar limit allows, and the limits that bound it."""
    count = intent.count
    reductions: list[str] = []
    if intent.reduce_only:
        return count, reductions

    def bound(allowed: Decimal, label: str) -> None:
        nonlocal count
        allowed = max(ZERO, allowed).to_integral_value(rounding=ROUND_FLOOR)
        if allowed < count:
            count = allowed
            reductions.append(label)

    bound(limits.max_order_contracts, f"max order {limits.max_order_contracts} contracts")
    bound(limits.max_position_contracts - exposure.contracts[intent.ticker], "max contracts per market")
    displayed = market.quote.size(intent.buys) if intent.is_taker else None
    if displayed is not None:
        bound(displayed * limits.max_depth_fraction, f"{limits.max_depth_fraction * 100:.0f}% of the displayed depth")
    city_day = (event.city, event.target_date)
    for room, label in (
        (limits.max_order_cost, f"max order cost ${limits.max_order_cost}"),
        (limits.max_event_exposure - exposure.by_event[event.event_ticker], "max exposure per event"),
        (limits.max_city_day_exposure - exposure.by_city_day[city_day], "max exposure per city and day"),
        (limits.max_total_exposure - exposure.total, "max total exposure"),
        (exposure.available, "cash available"),
    ):
        bound(_affordable(intent, event, room, count, now), label)
    return count, reductions


def _affordable(intent: OrderIntent, event: EventView, room: Decimal, upto: Decimal, now: datetime) -> Decimal:
    """The most contracts (at most ``upto``) whose price and fee fit in ``room`` dollars."""
    if room <= 0:
        return ZERO
    count = min(upto, (room / intent.own_price).to_integral_value(rounding=ROUND_FLOOR))
    while count > 0 and at_risk(intent, event, count, at=now) > room:
        count -= WHOLE  # the fee's rounding can tip the last contract over
    return count


def _age(delta: timedelta) -> str:
    hours, minutes = divmod(int(delta.total_seconds()) // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
