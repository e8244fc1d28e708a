"""The drill's four checks, each a list of findings that must stay empty.

- **Duplicate orders**: an exchange order sharing its client order id with
  another, lacking one, or with one we never intended.
- **Lost or double-counted fills**: an exchange fill of ours missing from our
  ledger; a fill booked twice, booked but not at the exchange, or more contracts
  booked in a market than the exchange filled there.
- **Limit breaches**: read from the exchange's own record of our orders and
  fills, against the limits in force: an order over the per-order contracts or
  cost, and, after any fill, a position over the per-market contracts or open
  cost (carried at cost, as risk counts it) over the per-event or total limits;
  a settlement empties its market.
  Working orders are not counted, so these are lower bounds of what risk
  counts: a breach here is a breach there.
- **Reconciliation differences**: after the closing reconciliation, each
  position, the cash and the resting orders of our ledger against the
  exchange's; an order still of unknown outcome counts too.

Pure: no Django. The audit (trading.drill.audit) reads both sides into these shapes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from localexchange.exchange import FillRecord, OrderRecord
from markets.schemas.enums import BookSide
from trading.ledger import Position
from trading.limits import Limits

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class OurOrder:
    client_order_id: str
    exchange_order_id: str
    resting: bool  # RESTING in our ledger
    unresolved: bool  # PENDING or UNKNOWN: we do not know what the exchange did with it
    remaining: Decimal


@dataclass(frozen=True)
class OurFill:
    trade_id: str
    ticker: str
    count: Decimal


@dataclass(frozen=True)
class Ledger:
    """Our side: orders, fills, positions (YES minus NO per market) and cash."""

    orders: Sequence[OurOrder]
    fills: Sequence[OurFill]
    positions: Mapping[str, Decimal]
    cash: Decimal


@dataclass(frozen=True)
class Record:
    """The exchange's side, for our member: every order and fill, positions (YES minus NO) and balance."""

    orders: Sequence[OrderRecord]
    fills: Sequence[FillRecord]  # in the order they happened
    positions: Mapping[str, Decimal]
    balance: Decimal
    events: Mapping[str, str] = field(default_factory=dict)  # ticker → event ticker
    settled: Sequence[tuple[datetime, str]] = ()  # (when, ticker), in time order


@dataclass(frozen=True)
class Findings:
    duplicate_orders: list[str]
    lost_fills: list[str]
    double_counted_fills: list[str]
    limit_breaches: list[str]
    reconciliation_differences: list[str]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "duplicate orders": len(self.duplicate_orders),
            "lost fills": len(self.lost_fills),
            "double-counted fills": len(self.double_counted_fills),
            "limit breaches": len(self.limit_breaches),
            "reconciliation differences": len(self.reconciliation_differences),
        }

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())


def check(record: Record, ledger: Ledger, limits: Limits) -> Findings:
    lost, doubled = fill_differences(record.fills, ledger.fills)
    return Findings(
        duplicate_orders=duplicate_orders(record.orders, ledger.orders),
        lost_fills=lost,
        double_counted_fills=doubled,
        limit_breaches=limit_breaches(record, limits),
        reconciliation_differences=ledger_differences(record, ledger),
    )


def duplicate_orders(theirs: Iterable[OrderRecord], ours: Iterable[OurOrder]) -> list[str]:
    intended = {o.client_order_id for o in ours}
    theirs = list(theirs)
    found = []
    for client_order_id, n in sorted(Counter(o.client_order_id for o in theirs if o.client_order_id).items()):
        if n > 1:
            found.append(f"client order id {client_order_id} placed {n} times")
    for order in theirs:
        if not order.client_order_id:
            found.append(f"exchange order {order.order_id} has no client order id")
        elif order.client_order_id not in intended:
            found.append(f"exchange order {order.order_id} ({order.client_order_id}) is not one we intended")
    return found


def fill_differences(theirs: Iterable[FillRecord], ours: Iterable[OurFill]) -> tuple[list[str], list[str]]:
    """(lost, double-counted): fills of the exchange we lack; fills we hold twice, wrongly, or in excess."""
    theirs, ours = list(theirs), list(ours)
    booked = Counter(f.trade_id for f in ours)
    real = {f.trade_id for f in theirs}
    lost = [f"{f.ticker} trade {f.trade_id} ({_n(f.count)} contracts) is not in our ledger" for f in theirs
            if f.trade_id not in booked]  # fmt: skip
    doubled = [f"trade {trade_id} booked {n} times" for trade_id, n in sorted(booked.items()) if n > 1]
    doubled += [f"{f.ticker} trade {f.trade_id} is booked but not at the exchange" for f in ours
                if f.trade_id not in real]  # fmt: skip
    filled, counted = _contracts_by_ticker(theirs), _contracts_by_ticker(ours)
    for ticker in sorted(counted):
        if counted[ticker] > filled.get(ticker, ZERO):
            doubled.append(f"{ticker}: {_n(counted[ticker])} contracts booked, {_n(filled.get(ticker, ZERO))} filled")
    return lost, doubled


def limit_breaches(record: Record, limits: Limits) -> list[str]:
    found = []
    for order in record.orders:
        cost = order.initial * _own_price(order.side, order.price)
        if order.initial > limits.max_order_contracts:
            found.append(f"order {order.client_order_id}: {_n(order.initial)} contracts > {limits.max_order_contracts}")
        if cost > limits.max_order_cost:
            found.append(f"order {order.client_order_id}: costs ${cost:,.2f} > ${limits.max_order_cost:,.2f}")
    positions: dict[str, Position] = defaultdict(Position)
    settled = list(record.settled)
    for fill in record.fills:
        while settled and settled[0][0] <= fill.at:  # a settled market holds nothing any more
            positions.pop(settled.pop(0)[1], None)
        held = positions[fill.ticker]
        held.fill(fill.side, fill.count, fill.price, ZERO)
        contracts = held.yes + held.no
        if contracts > limits.max_position_contracts:
            found.append(f"{fill.ticker} after trade {fill.trade_id}: {_n(contracts)} contracts held")
        event = record.events.get(fill.ticker, fill.ticker)
        in_event = sum((p.cost for t, p in positions.items() if record.events.get(t, t) == event), ZERO)
        if in_event > limits.max_event_exposure:
            found.append(f"{event} after trade {fill.trade_id}: ${in_event:,.2f} at cost")
        total = sum((p.cost for p in positions.values()), ZERO)
        if total > limits.max_total_exposure:
            found.append(f"all markets after trade {fill.trade_id}: ${total:,.2f} at cost")
    return found


def ledger_differences(record: Record, ledger: Ledger) -> list[str]:
    found = []
    for ticker in sorted(record.positions.keys() | ledger.positions.keys()):
        ours, theirs = ledger.positions.get(ticker, ZERO), record.positions.get(ticker, ZERO)
        if ours != theirs:
            found.append(f"position {ticker}: ours {_n(ours)}, the exchange's {_n(theirs)} (YES minus NO)")
    if ledger.cash != record.balance:
        found.append(f"cash: ours ${ledger.cash:,.2f}, the exchange's ${record.balance:,.2f}")
    resting = {o.order_id: o.remaining for o in record.orders if o.status == "resting" and o.remaining > 0}
    kept = {o.exchange_order_id: o.remaining for o in ledger.orders if o.resting}
    for order_id in sorted(resting.keys() | kept.keys()):
        if resting.get(order_id) != kept.get(order_id):
            found.append(f"resting order {order_id}: ours {kept.get(order_id)}, the exchange's {resting.get(order_id)}")
    found += [f"order {o.client_order_id}: outcome still unknown" for o in ledger.orders if o.unresolved]
    return found


def _contracts_by_ticker(fills: Iterable[OurFill | FillRecord]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for fill in fills:
        totals[fill.ticker] += fill.count
    return dict(totals)


def _own_price(side: BookSide, yes_price: Decimal) -> Decimal:
    return yes_price if side is BookSide.BID else ONE - yes_price


def _n(count: Decimal) -> str:
    return f"{count.normalize():f}"
