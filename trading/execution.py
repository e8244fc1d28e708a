"""From an approved intent to an order at the exchange, safely: reserve, send, apply what the broker said.

1. **Reserve** (:func:`reserve`): in one transaction that locks the mode's
   account row, the intent is checked again by trading.risk against the
   ledger as it is *now* (other workers' orders included) and stored as an
   order. Two workers can never exceed a limit together: the second waits for
   the first's reservation and sees it.
2. **Send** (:func:`send`): outside any transaction, the broker places it.
   Sending again is safe: the client order id makes it the same order.
3. **Apply** (:func:`apply`): the broker's answer moves the order's state and
   books its fills (trading.accounting). An unknown outcome leaves the order
   UNKNOWN, which blocks its market until reconciliation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Sum

from kalshiweb.bulk import update_rows
from kalshiweb.metrics import count_orders
from kalshiweb.realtime import OrderPayload, broadcast_all_on_commit
from markets.models import Market
from trading.accounting import account_for, record_fills
from trading.brokers.base import Broker, Placement
from trading.decisions import EventView, MarketView, OrderIntent
from trading.limits import Limits, TradingStatus
from trading.models import Account, Fill, Order
from trading.risk import Exposure, Verdict, at_risk, check_order
from trading.snapshot import portfolio

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
# An order stored but not answered for this long was being sent when its worker died: send it again
# (its client order id makes that safe).
RESEND_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Reservation:
    """One intent to reserve, with the event and market view it was decided on."""

    intent: OrderIntent
    event: EventView
    market: MarketView


def reserve(
    intent: OrderIntent,
    *,
    mode: str,
    event: EventView,
    market: MarketView,
    limits: Limits,
    status: TradingStatus,
    now: datetime,
    approval: bool = False,
) -> tuple[Order | None, Verdict]:
    """Check one intent against the ledger as it is now and store it as an order, atomically (see reserve_all)."""
    [reserved] = reserve_all(
        [Reservation(intent, event, market)], mode=mode, limits=limits, status=status, now=now, approval=approval
    )
    return reserved


def reserve_all(
    wanted: Sequence[Reservation],
    *,
    mode: str,
    limits: Limits,
    status: TradingStatus,
    now: datetime,
    approval: bool = False,
) -> list[tuple[Order | None, Verdict]]:
    """Check intents against the ledger as it is now and store the approved ones as orders, in one transaction.

    The mode's account row is locked first, so another worker's reservation
    is either wholly before these (and counted) or wholly after. Each intent
    is checked by trading.risk against the exposure including the ones before
    it. Returns, per intent, its order (an existing one when it was reserved
    before: a restarted cycle) and the verdict; no order when risk refused it.
    """
    if not wanted:
        return []
    with transaction.atomic():
        account_for(mode, lock=True)
        ids = [w.intent.client_order_id for w in wanted]
        existing = {o.client_order_id: o for o in Order.objects.filter(client_order_id__in=ids)}
        markets = dict(Market.objects.filter(ticker__in={w.intent.ticker for w in wanted}).values_list("ticker", "pk"))
        exposure = Exposure.of(portfolio(mode, now))
        results: list[tuple[Order | None, Verdict]] = []
        created = []
        for w in wanted:
            if w.intent.client_order_id in existing:
                order = existing[w.intent.client_order_id]
                results.append((order, Verdict(True, order.count, "already reserved")))
                continue
            verdict = check_order(
                w.intent, event=w.event, market=w.market, exposure=exposure, limits=limits, status=status, now=now
            )
            if not verdict.approved:
                results.append((None, verdict))
                continue
            exposure.reserve(w.intent, w.event, verdict.count, at_risk(w.intent, w.event, verdict.count, at=now))
            order = _order(w, verdict, mode=mode, market_id=markets.get(w.intent.ticker), now=now, approval=approval)
            created.append(order)
            results.append((order, verdict))
        Order.objects.bulk_create(created)
    return results


def _order(
    wanted: Reservation, verdict: Verdict, *, mode: str, market_id: int | None, now: datetime, approval: bool
) -> Order:
    intent = wanted.intent
    return Order(
        client_order_id=intent.client_order_id,
        mode=mode,
        market_id=market_id,
        ticker=intent.ticker,
        event_ticker=intent.event_ticker,
        book_side=intent.side.value,
        price=intent.price,
        count=verdict.count,
        time_in_force=intent.time_in_force.value,
        post_only=intent.post_only,
        reduce_only=intent.reduce_only,
        status=Order.Status.AWAITING_APPROVAL if approval else Order.Status.PENDING,
        remaining_count=verdict.count,
        strategy=intent.strategy,
        reason=intent.reason + (f"; risk: {verdict.reason}" if verdict.reason else ""),
        decision=_decision_of(intent, wanted.market),
        created_at=now,
        updated_at=now,
    )


def _decision_of(intent: OrderIntent, market: MarketView) -> dict[str, Any]:
    quote = market.quote
    return {
        "probability": intent.probability,
        "market_probability": market.market_probability,
        "expected_value": str(intent.expected_value) if intent.expected_value is not None else None,
        "yes_bid": str(quote.yes_bid) if quote.yes_bid is not None else None,
        "yes_ask": str(quote.yes_ask) if quote.yes_ask is not None else None,
        "asked_count": str(intent.count),
    }


def send(order: Order, broker: Broker, *, now: datetime) -> Order:
    """Place a reserved order through the broker and apply the answer. Safe to repeat for the same order."""
    return send_all([order], broker, now=now)[0]


def send_all(orders: Sequence[Order], broker: Broker, *, now: datetime) -> list[Order]:
    """Place reserved orders one by one, then apply every answer together; the orders as they now stand.

    Only orders still waiting to be sent (PENDING) or of unknown outcome are
    sent; sending one again is safe (its client order id makes it one order).
    """
    due = [o for o in orders if o.status in (Order.Status.PENDING, Order.Status.UNKNOWN)]
    if due:
        Order.objects.filter(pk__in=[o.pk for o in due]).update(submitted_at=now, updated_at=now)
        due = list(Order.objects.filter(pk__in=[o.pk for o in due]).select_related("market__event__series"))
        broker.prepare(due, now=now)
    answered = {o.pk: o for o in apply_all([(o, broker.place(o, now=now)) for o in due], now=now)}
    return [answered.get(o.pk, o) for o in orders]


def apply(order: Order, placement: Placement, *, now: datetime) -> Order:
    """Move the order to what the broker said and book its fills; count exchange errors for the kill switch."""
    return apply_all([(order, placement)], now=now)[0]


def apply_all(answers: Sequence[tuple[Order, Placement]], *, now: datetime) -> list[Order]:
    """Apply several answers of one mode at once: their fills in one booking, the orders in one write."""
    if not answers:
        return []
    mode = answers[0][0].mode
    record_fills([f for _, p in answers for f in p.fills], mode=mode, now=now)
    with transaction.atomic():
        current = Order.objects.select_for_update().in_bulk([o.pk for o, _ in answers])
        booked = {
            row["order"]: row
            for row in Fill.objects.filter(order__in=current).values("order").annotate(n=Sum("count"), fees=Sum("fee"))
        }
        changed, outcomes = [], []
        for order, placement in answers:
            fresh = current[order.pk]
            previous = fresh.status
            _take(fresh, placement, dict(booked.get(fresh.pk, {})), now)
            if fresh.status != previous:
                changed.append(fresh)
                outcomes.append(_outcome(previous, fresh.status))
        update_rows(list(current.values()), APPLIED_FIELDS)
        count_orders(mode, [outcome for outcome in outcomes if outcome is not None])
        _count_errors(mode, [p.exchange_error for _, p in answers if p.exchange_error is not None])
        broadcast_all_on_commit([_event(order) for order in changed])
    for order, placement in answers:
        if current[order.pk].status == Order.Status.UNKNOWN:
            logger.warning(
                "Order %s on %s: outcome unknown, market blocked: %s", order.client_order_id, order.ticker,
                placement.reason,
            )  # fmt: skip
    return [current[o.pk] for o, _ in answers]


APPLIED_FIELDS = [
    "status", "exchange_order_id", "order_group_id", "filled_count", "remaining_count", "fees", "queue_ahead",
    "trades_read_until", "reason", "updated_at",
]  # fmt: skip


def _take(order: Order, placement: Placement, booked: dict[str, Any], now: datetime) -> None:
    """One answer into one order row (in memory)."""
    if not (order.status in Order.FINAL and placement.status in (Order.Status.RESTING, Order.Status.UNKNOWN)):
        order.status = placement.status  # never back from a final state (the feed may have got there first)
    order.exchange_order_id = placement.exchange_order_id or order.exchange_order_id
    order.order_group_id = placement.order_group_id or order.order_group_id
    order.filled_count = max(placement.filled or ZERO, booked.get("n") or ZERO, order.filled_count)
    if order.status in Order.FINAL:
        order.remaining_count = ZERO
    elif placement.remaining is not None:
        order.remaining_count = placement.remaining
    order.fees = booked.get("fees") or ZERO
    if placement.queue_ahead is not None:
        order.queue_ahead = placement.queue_ahead
    if placement.trades_read_until is not None:
        order.trades_read_until = placement.trades_read_until
    if placement.reason and placement.reason not in order.reason:
        order.reason = f"{order.reason}\n{now:%Y-%m-%d %H:%M:%S}Z {placement.reason}".strip()
    order.updated_at = now


def _outcome(previous: str, status: str) -> str | None:
    """What a change of state means for the orders metric: placed, rejected, cancelled, failed, or nothing new."""
    if status in (Order.Status.RESTING, Order.Status.EXECUTED):
        # At the exchange from sending (or from an unknown outcome); a resting order filling later is not news.
        return "placed" if previous in (Order.Status.PENDING, Order.Status.UNKNOWN) else None
    return {
        Order.Status.REJECTED: "rejected",
        Order.Status.CANCELED: "cancelled",
        Order.Status.UNKNOWN: "failed",  # the send's outcome is unknown: it blocks its market until reconciled
    }.get(Order.Status(status))


def _count_errors(mode: str, failures: Sequence[bool]) -> None:
    """Exchange errors in a row: the trailing failures of these answers, added to the count unless one succeeded."""
    trailing = len(failures) - next((i + 1 for i in reversed(range(len(failures))) if not failures[i]), 0)
    if trailing == len(failures):
        if trailing:
            Account.objects.filter(mode=mode).update(consecutive_errors=F("consecutive_errors") + trailing)
    else:
        Account.objects.filter(mode=mode).exclude(consecutive_errors=trailing).update(consecutive_errors=trailing)


def _event(order: Order) -> OrderPayload:
    kind: Any = {
        Order.Status.EXECUTED: "order.filled",
        Order.Status.REJECTED: "order.rejected",
        Order.Status.CANCELED: "order.canceled",
        Order.Status.UNKNOWN: "order.unknown",
    }.get(Order.Status(order.status), "order.placed")
    return {
        "type": kind,
        "mode": order.mode,
        "ticker": order.ticker,
        "client_order_id": order.client_order_id,
        "status": order.status,
        "filled": str(order.filled_count),
        "price": str(order.own_price),
    }


def cancel(order: Order, broker: Broker, *, now: datetime, reason: str) -> Order:
    """Cancel what rests of an order; an order not yet at the exchange is simply withdrawn."""
    if order.status == Order.Status.AWAITING_APPROVAL or (
        order.status == Order.Status.PENDING and not order.submitted_at
    ):
        return apply(order, Placement(Order.Status.CANCELED, reason=f"withdrawn before sending: {reason}"), now=now)
    if order.status not in (Order.Status.RESTING, Order.Status.PENDING):
        return order
    placement = broker.cancel(order, now=now)
    if placement.status == Order.Status.CANCELED:
        placement = Placement(
            Order.Status.CANCELED,
            placement.exchange_order_id,
            placement.filled,
            ZERO,
            placement.fills,
            reason=f"{reason}: {placement.reason}" if placement.reason else reason,
        )
    return apply(order, placement, now=now)


def cancel_working(mode: str, broker: Broker, *, now: datetime, reason: str) -> int:
    """Cancel every resting or queued order of the mode (the kill switch); returns how many were cancelled."""
    cancelled = 0
    statuses = [Order.Status.RESTING, Order.Status.AWAITING_APPROVAL, Order.Status.PENDING]
    for order in Order.objects.filter(mode=mode, status__in=statuses):
        if cancel(order, broker, now=now, reason=reason).status == Order.Status.CANCELED:
            cancelled += 1
    return cancelled


def cancel_stale(mode: str, broker: Broker, *, now: datetime, max_age: timedelta) -> int:
    """Cancel resting orders placed longer ago than ``max_age``: their price was decided on an old view."""
    cutoff = now - max_age
    stale = Order.objects.filter(mode=mode, status=Order.Status.RESTING, submitted_at__lt=cutoff)
    reason = f"stale: resting longer than {max_age.total_seconds() / 60:.0f} min"
    return sum(1 for o in stale if cancel(o, broker, now=now, reason=reason).status == Order.Status.CANCELED)


def catch_up(broker: Broker, *, now: datetime) -> int:
    """Apply what the broker reports of working orders (paper fills); returns how many orders changed."""
    changes = broker.catch_up(now=now)
    apply_all(changes, now=now)
    return len(changes)


def resend_unanswered(broker: Broker, *, now: datetime) -> int:
    """Send the orders stored as PENDING whose sending was cut short (a worker killed mid-cycle).

    Sending twice is safe (the exchange answers the same client order id as
    already placed), so this errs towards sending.
    """
    unsent = Q(submitted_at__isnull=True)
    unanswered = Q(submitted_at__lt=now - RESEND_AFTER)  # younger ones may be in flight in another worker
    stuck = Order.objects.filter(unsent | unanswered, mode=broker.mode, status=Order.Status.PENDING).order_by(
        "created_at"
    )
    return len(send_all(list(stuck), broker, now=now))


def approve(order: Order, broker: Broker, *, actor: str, now: datetime) -> Order:
    """An operator's approval of a queued order: it is sent as it was reserved."""
    if order.status != Order.Status.AWAITING_APPROVAL:
        return order
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PENDING, reason=f"{order.reason}\napproved by {actor}".strip(), updated_at=now
    )
    order.refresh_from_db()
    return send(order, broker, now=now)


def reject(order: Order, *, actor: str, now: datetime) -> Order:
    if order.status != Order.Status.AWAITING_APPROVAL:
        return order
    return apply(order, Placement(Order.Status.CANCELED, reason=f"not approved by {actor}"), now=now)
