"""Our fills and order updates from the WebSocket feed, into the Fill and Order tables.

Each fill is stored once, keyed by Kalshi's trade id (the fill channel's
identifier of a fill; Kalshi's self-trade prevention means one account never
holds both sides of a trade): a duplicated frame, a replay after a reconnect
or a REST reconciliation of the same fill finds it stored. Order updates
change the orders we placed (matched by Kalshi's order id, else our client
order id) to what the exchange says: status, filled and remaining counts,
fees. The feed is not the only source of truth: REST reconciliation checks
both (execution).

Fills go to the ledger through trading.accounting, in V2 terms (book side and
YES price), moving positions and cash. A fill whose fee Kalshi did not send is
booked with a zero fee, marked unknown, and logged: reconciliation corrects it.

Plugged into the feed by the FEED_ACCOUNT_RECORDER setting, so market code
does not import trading.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction

from markets.errors import BadResponse
from markets.feed.protocol import Data, ms_text
from markets.schemas.portfolio import Fill as FillData
from markets.schemas.portfolio import parse_fill
from markets.schemas.reader import Reader
from trading.accounting import record_fills
from trading.brokers.kalshi import fill_report
from trading.models import Order

logger = logging.getLogger(__name__)

UPDATED_FIELDS = ("status", "exchange_order_id", "filled_count", "remaining_count", "fees")
ORDER_STATUSES = {"resting": Order.Status.RESTING, "canceled": Order.Status.CANCELED, "executed": Order.Status.EXECUTED}


class AccountRecorder:
    """Buffers the account's frames; ``flush`` stores the new fills and applies the order updates."""

    def __init__(self) -> None:
        self._fills: dict[str, FillData] = {}
        self._orders: dict[str, Mapping[str, Any]] = {}  # Kalshi order id → its latest update
        self.fills_stored = 0
        self.orders_updated = 0
        self.rejected = 0

    def add(self, frame: Data) -> None:
        if frame.type == "fill":
            self._add_fill(frame)
        elif frame.type == "user_order":
            order_id = frame.msg.get("order_id")
            if isinstance(order_id, str) and order_id:
                self._orders[order_id] = frame.msg

    def _add_fill(self, frame: Data) -> None:
        msg = frame.msg
        # The fill channel names a fill by its trade id, its time in ms, and its YES price only.
        ts_ms = msg.get("ts_ms")
        shaped = {**msg, "fill_id": msg.get("trade_id"), "created_time": ms_text(ts_ms) if type(ts_ms) is int else None}
        yes = msg.get("yes_price_dollars")
        if isinstance(yes, str) and "no_price_dollars" not in msg:
            with contextlib.suppress(InvalidOperation):
                shaped["no_price_dollars"] = f"{Decimal(1) - Decimal(yes):.4f}"
        try:
            fill = parse_fill(shaped)
        except BadResponse as exc:
            self.rejected += 1
            logger.warning("Kalshi WebSocket fill (sid %s) not stored: %s", frame.sid, exc)
            return
        self._fills[fill.trade_id] = fill

    def flush(self) -> dict[str, int]:
        """Store what was buffered; returns the new fills and the orders updated."""
        fills, self._fills = list(self._fills.values()), {}
        updates, self._orders = self._orders, {}
        if not fills and not updates:
            return {"fills": 0, "orders": 0}
        with transaction.atomic():
            new = self._store_fills(fills)
            changed = sum(self._update_order(order_id, update) for order_id, update in updates.items())
        self.fills_stored += new
        self.orders_updated += changed
        return {"fills": new, "orders": changed}

    def _store_fills(self, fills: list[FillData]) -> int:
        now = datetime.now(UTC)  # the feed is an edge: its clock is the wall's
        reports = [fill_report(f, received=now) for f in fills]
        return len(record_fills(reports, mode=settings.TRADING_MODE, now=now))

    def _update_order(self, order_id: str, update: Mapping[str, Any]) -> bool:
        try:
            r = Reader(update, "user_order", "order_id")
            client_order_id = r.opt_text("client_order_id")
            filled, remaining = r.opt_count("fill_count"), r.opt_count("remaining_count")
            fees = [r.opt_dollars(name) for name in ("taker_fees_dollars", "maker_fees_dollars")]
        except BadResponse as exc:
            self.rejected += 1
            logger.warning("Kalshi WebSocket order update not applied: %s", exc)
            return False
        order = Order.objects.filter(exchange_order_id=order_id).first() or (
            Order.objects.filter(client_order_id=client_order_id).first() if client_order_id else None
        )
        if order is None:
            return False  # not one of ours (placed elsewhere, or before this database)
        status = ORDER_STATUSES.get(str(update.get("status")))
        if status is not None:
            order.status = status
        order.exchange_order_id = order_id
        if filled is not None:
            order.filled_count = filled
        if remaining is not None:
            order.remaining_count = remaining
        if any(fee is not None for fee in fees):
            order.fees = sum((fee for fee in fees if fee is not None), Decimal(0))
        order.updated_at = datetime.now(UTC)
        order.save(update_fields=[*UPDATED_FIELDS, "updated_at"])
        return True
