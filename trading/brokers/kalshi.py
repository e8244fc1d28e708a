"""The Kalshi broker of DEMO and LIVE: V2 orders through our client, every answer read for what it proves.

* 201 with a readable answer: the order exists, with its fill and resting counts;
  its fills are read at once (and arrive again through the feed: they are keyed by trade id).
* 201 unreadable, a timeout or a 5xx after sending: the outcome is UNKNOWN, never rejected.
* 409 for the client order id: it was placed before (a retry of the same intent); we adopt what the exchange has.
* 400/404/422: rejected, with Kalshi's words. 429 and refused connections: not placed, an exchange error.

LIVE orders go in an order group whose exchange-side contract limit is the
backstop for our own limits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from kalshiweb.modes import TradingMode
from markets.client import KalshiClient
from markets.errors import (
    AuthError,
    BadRequest,
    Conflict,
    ExchangeUnavailable,
    Gone,
    KalshiError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
)
from markets.schemas.enums import BookSide, TimeInForce
from markets.schemas.orders import AcceptedDetailsUnknown, CreateOrderRequest, OrderAck
from markets.schemas.portfolio import Fill as ExchangeFill
from markets.schemas.portfolio import Order as ExchangeOrder
from trading.accounting import FillReport, account_for
from trading.brokers.base import Placement
from trading.models import Order

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
STATUSES = {"resting": Order.Status.RESTING, "executed": Order.Status.EXECUTED, "canceled": Order.Status.CANCELED}


class KalshiBroker:
    def __init__(
        self,
        client: KalshiClient,
        *,
        mode: TradingMode,
        order_group: Callable[[], str] | None = None,
        refuse_orders: str = "",
    ):
        self.client = client
        self.mode = mode
        self._order_group = order_group  # LIVE: the id of the group every order joins
        self._refusal = refuse_orders  # a broker that may only cancel says why it places nothing

    def trading_active(self) -> bool | None:
        try:
            status = self.client.get_exchange_status()
        except KalshiError as exc:  # unknown is not "off": the errors themselves count toward the kill switch
            logger.warning("Could not read Kalshi's exchange status: %s", exc)
            return None
        return status.exchange_active and status.trading_active

    def prepare(self, orders: Sequence[Order], *, now: datetime) -> None:
        pass  # each order is its own request

    def place(self, order: Order, *, now: datetime) -> Placement:
        if self._refusal:
            return Placement(Order.Status.REJECTED, reason=f"not sent: {self._refusal}")
        group = self._order_group() if self._order_group is not None else ""
        try:
            answer = self.client.create_order(request_for(order, order_group_id=group or None))
        except Conflict:
            return self._adopt(order, now, "the exchange already has this client order id: placed before")
        except OutcomeUnknown as exc:
            return Placement(Order.Status.UNKNOWN, reason=f"outcome unknown: {exc}", exchange_error=True)
        except (BadRequest, NotFound) as exc:
            return Placement(Order.Status.REJECTED, reason=f"rejected: {exc}")
        except (RateLimited, ExchangeUnavailable, AuthError, Gone) as exc:
            return Placement(Order.Status.REJECTED, reason=f"not placed: {exc}", exchange_error=True)
        if isinstance(answer, AcceptedDetailsUnknown):
            return Placement(
                Order.Status.UNKNOWN,
                exchange_order_id=answer.order_id or "",
                reason=f"accepted, details unreadable ({answer.problem}): reconciliation will read them",
                exchange_error=True,
                order_group_id=group,
            )
        if not isinstance(answer, OrderAck):  # a DryRunResult: the client's last safety net held
            return Placement(Order.Status.REJECTED, reason="not sent: the client refuses mutations in DRY mode")
        return self._acknowledged(order, answer, group, now)

    def _acknowledged(self, order: Order, ack: OrderAck, group: str, now: datetime) -> Placement:
        filled = ack.fill_count or ZERO
        remaining = ack.remaining_count if ack.remaining_count is not None else order.count - filled
        if remaining > 0:
            status = Order.Status.RESTING
        else:
            status = Order.Status.EXECUTED if filled > 0 else Order.Status.CANCELED
        fills = self._fills_of(ack.order_id, order, now) if filled > 0 else ()
        reason = "" if status != Order.Status.CANCELED else "nothing to take at the limit (immediate or cancel)"
        return Placement(
            status, ack.order_id, filled, remaining, fills, reason=reason, exchange_error=False, order_group_id=group
        )

    def _fills_of(self, order_id: str, order: Order, now: datetime) -> tuple[FillReport, ...]:
        try:
            fills = self.client.iter_fills(order_id=order_id)
            return tuple(fill_report(f, received=now, client_order_id=order.client_order_id) for f in fills)
        except KalshiError as exc:  # the feed and reconciliation bring them later
            logger.warning("Could not read the fills of order %s yet: %s", order_id, exc)
            return ()

    def _adopt(self, order: Order, now: datetime, reason: str) -> Placement:
        """The exchange's own record of an order we (may) have placed before, found by client order id."""
        try:
            found = find_order(self.client, order)
        except KalshiError as exc:
            return Placement(
                Order.Status.UNKNOWN, reason=f"{reason}; could not read it yet: {exc}", exchange_error=True
            )
        if found is None:
            return Placement(Order.Status.UNKNOWN, reason=f"{reason}; not found yet: reconciliation will look again")
        return placement_of(found, self._fills_of(found.order_id, order, now), reason=reason)

    def cancel(self, order: Order, *, now: datetime) -> Placement:
        if not order.exchange_order_id:
            return Placement(Order.Status.UNKNOWN, reason="no exchange order id to cancel: reconciliation first")
        try:
            answer = self.client.cancel_order(order.exchange_order_id)
        except NotFound:
            return self._adopt(order, now, "cancel: the exchange has no resting order")
        except OutcomeUnknown as exc:
            return Placement(
                Order.Status(order.status),
                order.exchange_order_id,
                reason=f"cancel unknown: {exc}",
                exchange_error=True,
            )
        except KalshiError as exc:
            return Placement(
                Order.Status(order.status), order.exchange_order_id, reason=f"cancel failed: {exc}", exchange_error=True
            )
        if isinstance(answer, OrderAck):
            return Placement(
                Order.Status.CANCELED, order.exchange_order_id, remaining=ZERO, reason="cancelled", exchange_error=False
            )
        return Placement(Order.Status.CANCELED, order.exchange_order_id, reason="cancel accepted", exchange_error=False)

    def catch_up(self, *, now: datetime) -> list[tuple[Order, Placement]]:
        return []  # the exchange's own matching: fills come through the feed and reconciliation


def request_for(order: Order, *, order_group_id: str | None = None) -> CreateOrderRequest:
    """The V2 create request of a stored order: its fields, nothing translated."""
    return CreateOrderRequest(
        ticker=order.ticker,
        side=BookSide(order.book_side),
        price=order.price,
        count=order.count,
        client_order_id=order.client_order_id,
        time_in_force=TimeInForce(order.time_in_force),
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        order_group_id=order_group_id,
    )


def find_order(client: KalshiClient, order: Order) -> ExchangeOrder | None:
    """The exchange's order with our client order id, among its live and historical orders."""
    for listing in (client.iter_orders(ticker=order.ticker), client.iter_historical_orders(ticker=order.ticker)):
        for candidate in listing:
            if candidate.client_order_id == order.client_order_id:
                return candidate
    return None


def placement_of(found: ExchangeOrder, fills: tuple[FillReport, ...] = (), *, reason: str = "") -> Placement:
    status = STATUSES.get(str(found.status), Order.Status.UNKNOWN)
    return Placement(
        status,
        found.order_id,
        found.fill_count,
        found.remaining_count,
        fills,
        reason=reason,
        exchange_error=False,  # the exchange answered
        order_group_id=found.order_group_id or "",
    )


def fill_report(fill: ExchangeFill, *, received: datetime, client_order_id: str = "") -> FillReport:
    """A fill as Kalshi's REST reports it, for the ledger (keyed by its trade id)."""
    return FillReport(
        trade_id=fill.trade_id,
        fill_id=fill.fill_id,
        ticker=fill.ticker,
        book_side=fill.book_side,
        price=fill.yes_price,
        count=fill.count,
        fee=fill.fee_cost,
        is_taker=fill.is_taker,
        created_time=fill.created_time or received,
        exchange_order_id=fill.order_id,
        client_order_id=client_order_id,
    )


def live_order_group(client: KalshiClient) -> str:
    """The LIVE account's order group, created on first use with the configured contract limit."""
    with transaction.atomic():
        account = account_for("LIVE", lock=True)
        if account.order_group_id:
            return account.order_group_id
        created = client.create_order_group(Decimal(settings.ORDER_GROUP_CONTRACTS_LIMIT))
        if not isinstance(created, str):
            raise RuntimeError("the client refused to create an order group (DRY safety net)")
        account.order_group_id = created
        account.save(update_fields=["order_group_id"])
        return created
