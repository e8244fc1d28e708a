"""The one way server code pushes live events to browsers.

Payloads are TypedDicts with a ``type`` that names the consumer handler
(``trading.state`` → ``trading_state``). Call :func:`broadcast_on_commit` from
inside a transaction so nobody is told about a change that then rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENTS_GROUP = "events"


class TradingStatePayload(TypedDict):
    type: Literal["trading.state"]
    state: str
    reason: str
    changed_by: str
    changed_at: str


class PredictionPayload(TypedDict):
    type: Literal["prediction.update"]
    event: str
    as_of: str
    model: str
    brackets: dict[str, str]  # market ticker → probability, exact decimal string


class OrderPayload(TypedDict):
    type: Literal["order.placed", "order.filled", "order.rejected", "order.canceled", "order.unknown"]
    mode: str
    ticker: str
    client_order_id: str
    status: str
    filled: str  # contracts, exact decimal string
    price: str  # of the side bought, dollars


class CyclePayload(TypedDict):
    type: Literal["trading.cycle"]
    mode: str
    outcome: str
    placed: int


Payload = TradingStatePayload | PredictionPayload | OrderPayload | CyclePayload


def broadcast(payload: Payload, *, group: str = EVENTS_GROUP) -> None:
    """Send ``payload`` to every socket in ``group`` now. Failures are logged, not raised:
    a dashboard that misses an update must never break the action that caused it."""
    broadcast_all([payload], group=group)


def broadcast_all(payloads: Sequence[Payload], *, group: str = EVENTS_GROUP) -> None:
    """Send several payloads in order, in one trip to the channel layer (a cycle's orders, say)."""
    layer = get_channel_layer()
    if layer is None or not payloads:
        return

    async def send() -> None:
        for payload in payloads:
            await layer.group_send(group, dict(payload))

    try:
        async_to_sync(send)()
    except Exception:
        logger.exception("Could not broadcast %s to group %s", ", ".join(p["type"] for p in payloads), group)


def broadcast_on_commit(payload: Payload, *, group: str = EVENTS_GROUP) -> None:
    transaction.on_commit(lambda: broadcast(payload, group=group))


def broadcast_all_on_commit(payloads: Sequence[Payload], *, group: str = EVENTS_GROUP) -> None:
    if payloads:
        transaction.on_commit(lambda: broadcast_all(payloads, group=group))
