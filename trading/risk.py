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
from trading.limits import Limits, Rule, TradingStatus

ZERO = Decimal(0)
WHOLE = Decimal(1)


@dataclass(frozen=True)
class Verdict:
    approved: bool
    count: Decimal  # contracts approved (0 when rejected)
    reason: str = ""  # why rejected, or which limits reduced the count
    rules: tuple[Rule, ...] = ()  # the rules that refused or reduced it


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
    blocked: frozenset[str] = frozenset()

    @classmethod
    def of(cls, portfolio: Portfolio) -> Exposure:
        exposure = cls(available=portfolio.available, day_pnl=portfolio.day_pnl, blocked=portfolio.blocked)
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
    if refusal is not None:
        rule, reason = refusal
        return Verdict(False, ZERO, reason, (rule,))
    count, reductions = _fitted_count(intent, event, market, exposure, limits, now)
    rules = tuple(rule for rule, _ in reductions)
    described = "; ".join(label for _, label in reductions)
    if count <= 0:
        return Verdict(False, ZERO, described or "no contracts left to place", rules)
    return Verdict(True, count, f"reduced from {intent.count} to {count}: {described}" if reductions else "", rules)


def _refusal(
    intent: OrderIntent,
    event: EventView,
    market: MarketView,
    exposure: Exposure,
    limits: Limits,
    status: TradingStatus,
    now: datetime,
) -> tuple[Rule, str] | None:
    """The rule that allows no contract of the intent, and why; None when some may be placed."""
    side = side_name(intent.buys)
    if status is TradingStatus.HALTED:
        return Rule.HALTED, "trading is halted"
    if status is TradingStatus.REDUCE_ONLY and not intent.reduce_only:
        return Rule.REDUCE_ONLY, "trading is reduce-only: no new exposure"
    if intent.ticker in exposure.blocked:
        return Rule.UNRESOLVED, "an earlier order's outcome is unknown until reconciliation"
    if intent.reduce_only:
        return None
    price = intent.own_price
    if price < limits.min_price:
        return Rule.MIN_PRICE, f"{side} at ${price} is below the minimum price ${limits.min_price}"
    if price > limits.max_price:
        return Rule.MAX_PRICE, f"{side} at ${price} is above the maximum price ${limits.max_price}"
    if intent.is_taker:
        seen = market.quote.seen_at(intent.buys)
        if seen is None:
            return Rule.NO_PRICE, f"no {side} price to take"
        if now - seen > limits.max_data_age:
            return Rule.STALE_PRICE, f"the {side} price is {_age(now - seen)} old (limit {_age(limits.max_data_age)})"
    if -exposure.day_pnl >= limits.max_daily_loss:
        return Rule.DAILY_LOSS, f"daily loss ${-exposure.day_pnl:.2f} has reached the limit ${limits.max_daily_loss}"
    if exposure.drawdown >= limits.max_drawdown:
        return Rule.DRAWDOWN, f"drawdown ${exposure.drawdown:.2f} has reached the limit ${limits.max_drawdown}"
    try:
        event.fees.rate(taker=intent.is_taker, at=now)
    except FeeError as exc:
        return Rule.FEES, str(exc)
    return None


def _fitted_count(
    intent: OrderIntent, event: EventView, market: MarketView, exposure: Exposure, limits: Limits, now: datetime
) -> tuple[Decimal, list[tuple[Rule, str]]]:
    """The most contracts (whole ones) every count and dollar limit allows, and the rules that bound it."""
    count = intent.count
    reductions: list[tuple[Rule, str]] = []
    if intent.reduce_only:
        return count, reductions

    def bound(allowed: Decimal, rule: Rule, label: str) -> None:
        nonlocal count
        allowed = max(ZERO, allowed).to_integral_value(rounding=ROUND_FLOOR)
        if allowed < count:
            count = allowed
            reductions.append((rule, label))

    bound(limits.max_order_contracts, Rule.ORDER_CONTRACTS, f"max order {limits.max_order_contracts} contracts")
    held = exposure.contracts[intent.ticker]
    bound(limits.max_position_contracts - held, Rule.POSITION_CONTRACTS, "max contracts per market")
    displayed = market.quote.size(intent.buys) if intent.is_taker else None
    if displayed is not None:
        share = f"{limits.max_depth_fraction * 100:.0f}% of the displayed depth"
        bound(displayed * limits.max_depth_fraction, Rule.DEPTH, share)
    city_day = (event.city, event.target_date)
    event_room = limits.max_event_exposure - exposure.by_event[event.event_ticker]
    city_day_room = limits.max_city_day_exposure - exposure.by_city_day[city_day]
    for room, rule, label in (
        (limits.max_order_cost, Rule.ORDER_COST, f"max order cost ${limits.max_order_cost}"),
        (event_room, Rule.EVENT_EXPOSURE, "max exposure per event"),
        (city_day_room, Rule.CITY_DAY_EXPOSURE, "max exposure per city and day"),
        (limits.max_total_exposure - exposure.total, Rule.TOTAL_EXPOSURE, "max total exposure"),
        (exposure.available, Rule.CASH, "cash available"),
    ):
        bound(_affordable(intent, event, room, count, now), rule, label)
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
