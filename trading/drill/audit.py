"""The drill's audit: both sides read into the checks' shapes, and checked (trading.drill.checks)."""

from __future__ import annotations

from localexchange.exchange import Exchange
from trading.accounting import account_for
from trading.drill.checks import Findings, Ledger, OurFill, OurOrder, Record, check
from trading.drill.venue import MEMBER, Served
from trading.models import Fill, Order, Position, RiskLimits


def exchange_record(exchange: Exchange, member: str = MEMBER) -> Record:
    """What the exchange holds of ``member``: read it in the exchange's own thread (:meth:`Served.call`)."""
    account = exchange.member(member)
    return Record(
        orders=[o for o in exchange.orders.values() if o.member == member],
        fills=[f for f in exchange.fills if f.member == member],
        positions={t: p.yes - p.no for t, p in account.positions.items() if p.is_open},
        balance=account.balance,
        events={ticker: market.event_ticker for ticker, market in exchange.markets.items()},
        settled=sorted({(s.at, s.ticker) for s in exchange.settlements}),
    )


def our_ledger(mode: str) -> Ledger:
    orders = [
        OurOrder(
            o.client_order_id,
            o.exchange_order_id,
            resting=o.status == Order.Status.RESTING,
            unresolved=o.status in (Order.Status.PENDING, Order.Status.UNKNOWN),
            remaining=o.remaining_count,
        )
        for o in Order.objects.filter(mode=mode)
    ]
    fills = [OurFill(*row) for row in Fill.objects.filter(mode=mode).values_list("trade_id", "ticker", "count")]
    positions = {p.ticker: p.contracts for p in Position.objects.filter(mode=mode) if p.contracts}
    return Ledger(orders, fills, positions, account_for(mode).cash)


def audit(served: Served, *, mode: str) -> Findings:
    """Our ledger in ``mode`` against the served exchange's record, under the limits in force."""
    record = served.call(lambda: exchange_record(served.feed.exchange))
    return check(record, our_ledger(mode), RiskLimits.load().limits())
