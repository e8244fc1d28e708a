"""Reconciliation: our ledger against the exchange's, each difference fixed through the ledger and recorded.

Run at start-up and on a schedule (``manage.py reconcile``). For DEMO and
LIVE the exchange is the truth; in this order:

1. **Orders** still working in our ledger (PENDING, RESTING, UNKNOWN) are
   looked up at the exchange, by its order id, else by our client order id
   among its live and historical orders.
2. **Fills**, live and historical, are booked through
   :func:`trading.accounting.record_fills`, which keys them by trade id: a
   fill the feed booked already (a WebSocket gap then REST recovery, or a
   second reconciliation) is never booked twice. A fee we booked unknown or
   different is corrected (:func:`~trading.accounting.correct_fee`).
3. The orders found are **applied** (:func:`trading.execution.apply`); an
   order not found, sent longer ago than ``grace``, never reached the
   exchange and is canceled; one sent more recently may still arrive and
   leaves the reconciliation **incomplete**.
4. **Settlements** we lack are recorded (:func:`~trading.accounting.record_settlement`).
5. **Positions** still differing after all that are recorded, not overwritten:
   a position is only ever moved by fills and settlements.
6. The **balance**: the exchange's replaces our cash, the difference recorded.

Every difference is a :class:`~trading.models.Difference` row of the
:class:`~trading.models.Reconciliation`. An exchange error stops the run,
leaves it incomplete with the error in its detail, and is not raised.

DRY has no exchange: :func:`reconcile_paper` checks the paper ledger against
itself (positions and cash rebuilt from the fills and settlements).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from markets.client import KalshiClient
from markets.errors import KalshiError, NotFound
from markets.schemas.enums import BookSide
from markets.schemas.portfolio import Fill as ExchangeFill
from markets.schemas.portfolio import Order as ExchangeOrder
from markets.schemas.portfolio import Settlement as ExchangeSettlement
from trading.accounting import account_for, correct_fee, record_fills, record_settlement, starting_cash
from trading.brokers.base import Placement
from trading.brokers.kalshi import fill_report, find_order, placement_of
from trading.execution import apply
from trading.ledger import Position as PositionState
from trading.models import Difference, Fill, Order, Position, Reconciliation, Settlement

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
ONE = Decimal(1)
Kind = Difference.Kind
# Fills and settlements are read back to the last complete reconciliation, less this margin (late
# reports, clocks); with no complete one behind us, everything is read.
MARGIN = timedelta(hours=6)


@dataclass
class _Run:
    """One reconciliation under way: its row, and what it found so far."""

    row: Reconciliation
    now: datetime
    notes: list[str] = field(default_factory=list)  # what stays open, for the detail text
    booked: int = 0
    resolved: int = 0

    def differ(
        self, kind: str, *, fix: str, ticker: str = "", reference: str = "", ours: str = "", theirs: str = ""
    ) -> None:
        Difference.objects.create(
            reconciliation=self.row, kind=kind, ticker=ticker, reference=reference, ours=ours, theirs=theirs, fix=fix
        )
        self.row.differences += 1

    def open(self, note: str) -> None:
        self.row.unresolved += 1
        self.notes.append(note)


def reconcile(
    client: KalshiClient, *, mode: str, now: datetime, grace: timedelta = timedelta(seconds=60)
) -> Reconciliation:
    """Compare the ``mode`` ledger (DEMO or LIVE) with the exchange, fix what differs, and record it all."""
    if mode not in ("DEMO", "LIVE"):
        raise ValueError(f"reconcile() compares a DEMO or LIVE ledger with the exchange, not {mode}")
    since = _since(mode)
    run = _Run(Reconciliation.objects.create(mode=mode, started_at=now), now)
    try:
        _reconcile(client, run, mode, since, grace)
    except KalshiError as exc:
        logger.warning("Reconciliation of %s stopped by an exchange error: %s", mode, exc)
        run.notes.append(f"stopped by an exchange error: {exc}")
        run.row.unresolved += 1  # whatever was not read yet is not known to agree
    return _finish(run)


def _since(mode: str) -> datetime | None:
    last = Reconciliation.objects.filter(mode=mode, complete=True).order_by("-started_at").first()
    return last.started_at - MARGIN if last is not None else None


def _reconcile(client: KalshiClient, run: _Run, mode: str, since: datetime | None, grace: timedelta) -> None:
    working = list(Order.objects.filter(mode=mode, status__in=Order.WORKING).order_by("created_at"))
    found = {order.pk: _look_up(client, order) for order in working}
    run.row.orders_checked = len(working)

    fills = [*client.iter_fills(min_ts=since), *client.iter_historical_fills(min_ts=since)]
    run.row.fills_checked = len(fills)
    listed = [*client.iter_orders(min_ts=since), *client.iter_historical_orders(min_ts=since)]
    client_ids = {o.order_id: o.client_order_id for o in listed if o.client_order_id}
    client_ids.update({f.order_id: order.client_order_id for order in working if (f := found[order.pk]) is not None})
    _book_fills(run, mode, fills, client_ids)

    for order in working:
        exchange_order = found[order.pk]
        if exchange_order is None:
            _not_found(run, order, grace)
        else:
            _adopt(run, order, exchange_order)
    _check_listed(run, mode, listed, {order.pk for order in working})

    _settle(run, mode, client.iter_settlements(min_ts=since))
    _compare_positions(run, mode, client)
    _compare_balance(run, mode, client.get_balance().balance)


# Orders -------------------------------------------------------------------------------------------


def _look_up(client: KalshiClient, order: Order) -> ExchangeOrder | None:
    if order.exchange_order_id:
        try:
            return client.get_order(order.exchange_order_id)
        except NotFound:
            pass  # finished long ago (historical), or the id was wrong: search by our own id
    return find_order(client, order)


def _adopt(run: _Run, order: Order, found: ExchangeOrder) -> None:
    """Move a working order to the exchange's state (its fills were booked just before)."""
    before = (order.status, order.filled_count, order.remaining_count, order.exchange_order_id)
    _link_fills(order, found.order_id)
    placement = placement_of(found, reason="reconciliation: as the exchange has it")
    order = apply(order, placement, now=run.now)
    after = (order.status, order.filled_count, order.remaining_count, order.exchange_order_id)
    theirs = f"{found.status}, {_n(found.fill_count)} filled, {_n(found.remaining_count)} resting ({found.order_id})"
    ours = f"{before[0]}, {_n(before[1])} filled, {_n(before[2])} resting"
    if before[0] in (Order.Status.UNKNOWN, Order.Status.PENDING):
        run.resolved += 1
        run.differ(
            Kind.ORDER_RESOLVED, ticker=order.ticker, reference=order.client_order_id, ours=ours, theirs=theirs,
            fix=f"adopted the exchange's order {found.order_id}: now {order.status}",
        )  # fmt: skip
    elif before != after:
        run.differ(
            Kind.ORDER_STATE, ticker=order.ticker, reference=order.client_order_id, ours=ours, theirs=theirs,
            fix=f"now {order.status}, {_n(order.filled_count)} filled, {_n(order.remaining_count)} resting",
        )  # fmt: skip
    if order.status == Order.Status.UNKNOWN:
        run.open(f"{order.client_order_id}: the exchange reports status {found.status!r}, which we cannot read")


def _link_fills(order: Order, exchange_order_id: str) -> None:
    """Fills booked before we knew the order's exchange id (the feed, say) are its fills: link them (no money moves)."""
    Fill.objects.filter(mode=order.mode, exchange_order_id=exchange_order_id, order__isnull=True).update(order=order)


def _not_found(run: _Run, order: Order, grace: timedelta) -> None:
    sent = order.submitted_at or order.created_at
    age = run.now - sent
    if age < grace:
        run.open(f"{order.client_order_id}: not at the exchange yet, sent {age.total_seconds():.0f}s ago")
        return
    reason = (
        f"never reached the exchange: no order with this client order id "
        f"{age.total_seconds():.0f}s after sending (reconciliation)"
    )
    before = order.status
    order = apply(order, Placement(Order.Status.CANCELED, reason=reason), now=run.now)
    run.differ(
        Kind.ORDER_NOT_PLACED, ticker=order.ticker, reference=order.client_order_id, ours=str(before),
        theirs="no such order (live or historical)", fix=f"canceled: {reason}",
    )  # fmt: skip


def _check_listed(run: _Run, mode: str, listed: Iterable[ExchangeOrder], checked: set[int]) -> None:
    """Exchange orders we don't know, or know as finished when they are not (those were not checked above)."""
    ours = {o.client_order_id: o for o in Order.objects.filter(mode=mode, client_order_id__in=_ids(listed))}
    for found in listed:
        order = ours.get(found.client_order_id) if found.client_order_id else None
        theirs = f"{found.status}, {_n(found.fill_count)} filled, {_n(found.remaining_count)} resting"
        if order is None:
            run.differ(
                Kind.ORDER_MISSING, ticker=found.ticker, reference=found.client_order_id or found.order_id,
                theirs=f"{theirs} ({found.order_id}, {found.book_side} @ {found.yes_price})",
                fix="none: recorded (not ours to adopt: its fills are booked, its intent is unknown)",
            )  # fmt: skip
            continue
        if order.pk in checked or order.status not in Order.FINAL:
            continue  # checked above, or placed since we listed the working orders (the next run checks it)
        if str(found.status) == "resting":
            run.open(f"{order.client_order_id}: {order.status} in our ledger, resting at the exchange")
            run.differ(
                Kind.ORDER_STATE, ticker=order.ticker, reference=order.client_order_id, ours=str(order.status),
                theirs=theirs, fix="none: an order final in our ledger rests at the exchange; cancel it there",
            )  # fmt: skip
        elif order.filled_count != found.fill_count or not order.exchange_order_id:
            _link_fills(order, found.order_id)
            ours_text = f"{order.status}, {_n(order.filled_count)} filled"
            order = apply(order, placement_of(found, reason="reconciliation: as the exchange has it"), now=run.now)
            run.differ(
                Kind.ORDER_STATE, ticker=order.ticker, reference=order.client_order_id, ours=ours_text,
                theirs=theirs, fix=f"now {order.status}, {_n(order.filled_count)} filled ({found.order_id})",
            )  # fmt: skip


def _ids(listed: Iterable[ExchangeOrder]) -> set[str]:
    return {o.client_order_id for o in listed if o.client_order_id}


# Fills --------------------------------------------------------------------------------------------


def _book_fills(run: _Run, mode: str, fills: list[ExchangeFill], client_ids: dict[str, str]) -> None:
    reports = [fill_report(f, received=run.now, client_order_id=client_ids.get(f.order_id, "")) for f in fills]
    for fill in record_fills(reports, mode=mode, now=run.now):
        run.booked += 1
        run.differ(
            Kind.FILL_MISSING, ticker=fill.ticker, reference=fill.trade_id, theirs=_fill_text(fill),
            fix=f"booked (order {fill.order.client_order_id if fill.order else fill.exchange_order_id or '?'})",
        )  # fmt: skip
    fees = {f.trade_id: f.fee_cost for f in fills if f.fee_cost is not None}
    for fill in Fill.objects.filter(mode=mode, trade_id__in=fees):
        fee = fees[fill.trade_id]
        if fill.fee == fee and fill.fee_known:
            continue
        ours = f"${fill.fee:,.2f}" if fill.fee_known else f"unknown (booked ${fill.fee:,.2f})"
        change = correct_fee(fill, fee, now=run.now)
        run.differ(
            Kind.FILL_FEE, ticker=fill.ticker, reference=fill.trade_id, ours=ours, theirs=f"${fee:,.2f}",
            fix=f"fee corrected: cash {_signed(-change)}",
        )  # fmt: skip


def _fill_text(fill: Fill) -> str:
    at = f"{fill.created_time:%Y-%m-%d %H:%M:%S}Z"
    return f"{fill.book_side} {_n(fill.count)} @ {fill.price} (fee ${fill.fee:,.2f}) at {at}"


# Settlements, positions, balance ------------------------------------------------------------------


def _settle(run: _Run, mode: str, settlements: Iterable[ExchangeSettlement]) -> None:
    done = set(Settlement.objects.filter(mode=mode).values_list("ticker", flat=True))
    for theirs in settlements:
        if theirs.ticker in done:
            continue
        payout = theirs.value if theirs.value is not None else {"yes": ONE, "no": ZERO}.get(str(theirs.market_result))
        # Kalshi's fee_cost is every fee paid in the market; ours were booked with the fills. Only what the
        # exchange charged beyond those is a settlement fee.
        held = Position.objects.filter(mode=mode, ticker=theirs.ticker).first()
        extra = max(ZERO, (theirs.fee_cost or ZERO) - (held.fees_paid if held else ZERO))
        text = (
            f"{theirs.market_result}: {_n(theirs.yes_count)} YES, {_n(theirs.no_count)} NO, "
            f"revenue ${theirs.revenue:,.2f}, fees ${theirs.fee_cost or ZERO:,.2f}"
        )
        if payout is None:
            run.differ(
                Kind.SETTLEMENT_MISSING, ticker=theirs.ticker, reference=theirs.ticker, theirs=text,
                fix=f"none: a {theirs.market_result!r} result without a payout per contract; settle it by hand",
            )  # fmt: skip
            continue
        settled = record_settlement(
            theirs.ticker, mode=mode, result=str(theirs.market_result), payout=payout,
            settled_time=theirs.settled_time, now=run.now, fee=extra,
        )  # fmt: skip
        if settled is None:
            fix = "none: our ledger holds nothing in this market (see the position difference)"
        else:
            fix = f"settled: revenue ${settled.revenue:,.2f}" + (f", settlement fee ${extra:,.2f}" if extra else "")
        run.differ(Kind.SETTLEMENT_MISSING, ticker=theirs.ticker, reference=theirs.ticker, theirs=text, fix=fix)
        done.add(theirs.ticker)


def _compare_positions(run: _Run, mode: str, client: KalshiClient) -> None:
    theirs = {p.ticker: p.position for p in client.get_positions().market_positions}
    ours = {p.ticker: p.contracts for p in Position.objects.filter(mode=mode)}
    for ticker in sorted(theirs.keys() | ours.keys()):
        mine, exchange = ours.get(ticker, ZERO), theirs.get(ticker, ZERO)
        if mine != exchange:
            run.differ(
                Kind.POSITION, ticker=ticker, reference=ticker, ours=_contracts(mine), theirs=_contracts(exchange),
                fix="none: positions move only by fills and settlements; find the missing one",
            )  # fmt: skip


def _n(count: Decimal) -> str:
    """A count as people write it: 3, 2.5."""
    return f"{count.normalize():f}"


def _contracts(signed: Decimal) -> str:
    return f"{_n(signed)} YES" if signed >= 0 else f"{_n(-signed)} NO"


def _compare_balance(run: _Run, mode: str, balance: Decimal) -> None:
    with transaction.atomic():
        account = account_for(mode, lock=True)
        if account.cash != balance:
            run.differ(
                Kind.BALANCE, ours=f"${account.cash:,.2f}", theirs=f"${balance:,.2f}",
                fix=f"cash set to the exchange's balance ({_signed(balance - account.cash)})",
            )  # fmt: skip
            account.cash = balance
            account.updated_at = run.now
        account.balance_checked_at = run.now
        account.save(update_fields=["cash", "updated_at", "balance_checked_at"])
    run.row.balance = balance


def _finish(run: _Run) -> Reconciliation:
    row = run.row
    row.complete = row.unresolved == 0
    row.finished_at = run.now
    summary = f"{row.fills_checked} fills read, {run.booked} booked; {row.orders_checked} working orders checked"
    summary += f", {run.resolved} resolved; {row.differences} differences"
    row.detail = "\n".join([summary, *run.notes])
    row.save()
    return row


def _signed(amount: Decimal) -> str:
    return f"+${amount:,.2f}" if amount >= 0 else f"-${-amount:,.2f}"


# DRY -----------------------------------------------------------------------------------------------


def reconcile_paper(now: datetime) -> Reconciliation:
    """The paper ledger against itself: each position and the cash rebuilt from the fills and settlements."""
    mode = "DRY"
    run = _Run(Reconciliation.objects.create(mode=mode, started_at=now), now)
    states: dict[str, PositionState] = defaultdict(PositionState)
    cash = starting_cash(mode)
    fills = Fill.objects.filter(mode=mode).order_by("created_time", "pk")
    for fill in fills:
        cash += states[fill.ticker].fill(BookSide(fill.book_side), fill.count, fill.price, fill.fee)
        run.row.fills_checked += 1
    settled = {s.ticker: s for s in Settlement.objects.filter(mode=mode)}
    for settlement in settled.values():
        cash += settlement.revenue - settlement.fees
    for position in Position.objects.filter(mode=mode):
        state = states.get(position.ticker, PositionState())
        expected = ZERO if position.ticker in settled else state.yes - state.no
        if position.contracts != expected:
            run.differ(
                Kind.POSITION, ticker=position.ticker, reference=position.ticker, ours=_contracts(position.contracts),
                theirs=f"{_contracts(expected)} from the fills", fix="none: recorded for review",
            )  # fmt: skip
    account = account_for(mode)
    if account.cash != cash:
        run.differ(
            Kind.BALANCE, ours=f"${account.cash:,.2f}", theirs=f"${cash:,.2f} from the fills and settlements",
            fix="none: recorded for review",
        )  # fmt: skip
    run.row.orders_checked = Order.objects.filter(mode=mode, status__in=Order.WORKING).count()
    for order in Order.objects.filter(mode=mode, status=Order.Status.UNKNOWN):
        run.open(f"{order.client_order_id}: outcome unknown")
    run.row.balance = cash
    return _finish(run)
