"""The one way money enters the ledger: fills, fee corrections and settlements, per mode.

Whoever learns of a fill (the paper broker, the Kalshi broker's answer, the
WebSocket feed, REST recovery after a gap, reconciliation) hands it to
:func:`record_fills`. A fill is stored once, keyed by its trade id; its
position is moved with Kalshi's netting (trading.ledger.Position) and the
account's cash with it, in one transaction that holds the mode's account row,
so two recorders can never book the same fill twice or lose one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from kalshiweb.bulk import update_rows
from kalshiweb.metrics import count_fills
from kalshiweb.realtime import broadcast_on_commit, settlement_event
from markets.models import Market
from markets.schemas.enums import BookSide
from trading.models import Account, Fill, Order, Position, Settlement

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


@dataclass(frozen=True)
class FillReport:
    """One execution as any source reports it, in V2 terms."""

    trade_id: str
    ticker: str
    book_side: BookSide
    price: Decimal  # YES-book price
    count: Decimal
    fee: Decimal | None  # None: not told yet (booked as $0 until reconciliation says)
    is_taker: bool
    created_time: datetime
    exchange_order_id: str = ""
    client_order_id: str = ""
    fill_id: str = ""


def starting_cash(mode: str) -> Decimal:
    """DRY starts with the paper bankroll; DEMO and LIVE with nothing until the exchange's balance is read."""
    return Decimal(settings.PAPER_BANKROLL) if mode == "DRY" else ZERO


def account_for(mode: str, *, lock: bool = False) -> Account:
    """The mode's account row (created on first use); ``lock`` holds it until the transaction ends."""
    rows = Account.objects.select_for_update() if lock else Account.objects
    found = rows.filter(mode=mode).first()
    if found is not None:
        return found
    Account.objects.get_or_create(mode=mode, defaults={"cash": starting_cash(mode), "peak_equity": starting_cash(mode)})
    return rows.get(mode=mode)


def record_fills(reports: Iterable[FillReport], *, mode: str, now: datetime) -> list[Fill]:
    """Book the fills not booked yet; returns the new ones. Safe to call with any mix of old and new.

    One transaction however many fills: the account row is locked, the
    positions they touch are read once, moved in time order, and written back.
    """
    unique = {r.trade_id: r for r in reports}  # the same fill twice in one batch is one fill
    if not unique:
        return []
    with transaction.atomic():
        account = account_for(mode, lock=True)
        known = set(Fill.objects.filter(mode=mode, trade_id__in=unique).values_list("trade_id", flat=True))
        fresh = sorted((r for r in unique.values() if r.trade_id not in known), key=lambda r: r.created_time)
        if not fresh:
            return []
        orders = _orders_of(fresh, mode)
        markets = dict(Market.objects.filter(ticker__in={r.ticker for r in fresh}).values_list("ticker", "pk"))
        positions = _positions(mode, {r.ticker: markets.get(r.ticker) for r in fresh}, now)
        booked = []
        for report in fresh:
            order = orders.get(report.exchange_order_id) or orders.get(report.client_order_id)
            booked.append(_book(report, account, order, positions[report.ticker], now))
        update_rows(
            list(positions.values()), ["yes_count", "no_count", "total_cost", "realized_pnl", "fees_paid", "updated_at"]
        )
        Fill.objects.bulk_create(booked)
        account.updated_at = now
        account.save(update_fields=["cash", "updated_at"])
        count_fills(mode, [fill.count for fill in booked])
    return booked


def _positions(mode: str, tickers: dict[str, int | None], now: datetime) -> dict[str, Position]:
    """The mode's positions in these markets, locked, created where none exists yet."""
    found = {p.ticker: p for p in Position.objects.select_for_update().filter(mode=mode, ticker__in=tickers)}
    missing = [
        Position(mode=mode, ticker=ticker, market_id=market_id, updated_at=now)
        for ticker, market_id in tickers.items()
        if ticker not in found
    ]
    if missing:
        Position.objects.bulk_create(missing)
        found |= {p.ticker: p for p in Position.objects.filter(mode=mode, ticker__in=[m.ticker for m in missing])}
    return found


def _orders_of(reports: Sequence[FillReport], mode: str) -> dict[str, Order]:
    by_exchange = {r.exchange_order_id for r in reports if r.exchange_order_id}
    by_client = {r.client_order_id for r in reports if r.client_order_id}
    found: dict[str, Order] = {}
    for order in Order.objects.filter(
        Q(exchange_order_id__in=by_exchange) | Q(client_order_id__in=by_client), mode=mode
    ):
        if order.exchange_order_id in by_exchange:
            found[order.exchange_order_id] = order
        found[order.client_order_id] = order
    return found


def _book(report: FillReport, account: Account, order: Order | None, position: Position, now: datetime) -> Fill:
    """Move the position and the cash by one fill; the Fill row to store."""
    if report.fee is None:
        logger.warning("Fill %s came without its fee: booked at $0 until reconciliation", report.trade_id)
    fee = report.fee if report.fee is not None else ZERO
    state = position.state()
    before = state.realized
    account.cash += state.fill(report.book_side, report.count, report.price, fee)
    position.take(state)
    position.updated_at = now
    return Fill(
        trade_id=report.trade_id,
        fill_id=report.fill_id,
        mode=account.mode,
        order=order,
        exchange_order_id=report.exchange_order_id or (order.exchange_order_id if order else ""),
        market_id=position.market_id,
        ticker=report.ticker,
        book_side=report.book_side.value,
        price=report.price,
        count=report.count,
        fee=fee,
        fee_known=report.fee is not None,
        realized_pnl=state.realized - before,
        is_taker=report.is_taker,
        created_time=report.created_time,
        recorded_at=now,
    )


def _position(mode: str, ticker: str, market_id: int | None, now: datetime) -> Position:
    return _positions(mode, {ticker: market_id}, now)[ticker]


def correct_fee(fill: Fill, fee: Decimal, *, now: datetime) -> Decimal:
    """Set a fill's fee to what the exchange charged; returns the change booked (positive: we paid more)."""
    with transaction.atomic():
        account = account_for(fill.mode, lock=True)
        fill = Fill.objects.select_for_update().get(pk=fill.pk)
        change: Decimal = fee - fill.fee
        fill.fee, fill.fee_known, fill.realized_pnl = fee, True, fill.realized_pnl - change
        fill.save(update_fields=["fee", "fee_known", "realized_pnl"])
        position = _position(fill.mode, fill.ticker, fill.market_id, now)
        position.fees_paid += change
        position.realized_pnl -= change
        position.updated_at = now
        position.save(update_fields=["fees_paid", "realized_pnl", "updated_at"])
        account.cash -= change
        account.updated_at = now
        account.save(update_fields=["cash", "updated_at"])
    return change


def record_settlement(
    ticker: str, *, mode: str, result: str, payout: Decimal, settled_time: datetime, now: datetime, fee: Decimal = ZERO
) -> Settlement | None:
    """Close our position in a settled market at ``payout`` dollars per YES contract; None if nothing was held.

    Settled once per mode and market: a second call finds the settlement made.
    """
    with transaction.atomic():
        account = account_for(mode, lock=True)
        if Settlement.objects.filter(mode=mode, ticker=ticker).exists():
            return None
        position = Position.objects.select_for_update().filter(mode=mode, ticker=ticker).first()
        if position is None or (position.yes_count == 0 and position.no_count == 0):
            return None
        state = position.state()
        yes, no, cost = state.yes, state.no, state.cost
        revenue = state.settle(payout)
        state.realized -= fee
        state.fees += fee
        position.take(state)
        position.settled, position.updated_at = True, now
        position.save()
        account.cash += revenue - fee
        account.updated_at = now
        account.save(update_fields=["cash", "updated_at"])
        settlement = Settlement.objects.create(
            mode=mode,
            market_id=position.market_id,
            ticker=ticker,
            result=result,
            yes_count=yes,
            no_count=no,
            cost=cost,
            revenue=revenue,
            fees=fee,
            settled_time=settled_time,
            recorded_at=now,
        )
        broadcast_on_commit(settlement_event(mode=mode, ticker=ticker, result=result, pnl=settlement.pnl))
        return settlement


def realized_on(mode: str, day: datetime) -> Decimal:
    """P&L realised on ``day``'s UTC date: closed pairs and fees of its fills, and its settlements."""
    start = datetime.combine(day.astimezone(UTC).date(), time.min, tzinfo=UTC)
    fills = (
        Fill.objects.filter(mode=mode, created_time__gte=start, created_time__lte=day).aggregate(
            total=Sum("realized_pnl")
        )["total"]
        or ZERO
    )
    settled = ZERO
    for s in Settlement.objects.filter(mode=mode, settled_time__gte=start, settled_time__lte=day):
        settled += s.revenue - s.cost - s.fees
    return fills + settled


def equity(account: Account) -> Decimal:
    """Cash plus open positions at cost (positions are not marked to market), as the risk core counts it."""
    held = Position.objects.filter(mode=account.mode, settled=False).aggregate(cost=Sum("total_cost"))["cost"]
    total: Decimal = account.cash + (held or ZERO)
    return total
