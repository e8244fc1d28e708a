"""The one way server code pushes live events to browsers.

Payloads are TypedDicts with a ``type`` that names the consumer handler
(``trading.state`` → ``trading_state``). Call :func:`broadcast_on_commit` from
inside a transaction so nobody is told about a change that then rolls back.

Every payload goes to the ``events`` group (everything: the dashboard's
socket) and to the group of its stream (``trading``, ``predictions``,
``backtests``, ``feed``) for programs that follow one stream only.

The in-memory channel layer (the embedded runner's) keeps asyncio queues
that belong to the ASGI server's event loop and are not thread-safe: a
message put from another thread's loop (a Celery worker thread, the feed's
thread) may never wake the consumer waiting for it. So consumers register
the server's loop when they connect, and sends from any other thread are
run on that loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENTS_GROUP = "events"
SEND_TIMEOUT = 5.0  # seconds a foreign thread waits for the server's loop to take its events


class TradingStatePayload(TypedDict):
    type: Literal["trading.state"]
    state: str  # active, reduce_only, halted
    label: str  # what a person reads: "Halted"
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


class BacktestProgressPayload(TypedDict):
    type: Literal["backtest.progress"]
    run: int  # BacktestRun pk
    status: str  # a BacktestRun.Status value
    done: int
    total: int
    message: str


class RiskBlockPayload(TypedDict):
    type: Literal["risk.block"]
    mode: str
    ticker: str
    rule: str  # the rules that refused, comma-separated
    reason: str


class KillSwitchPayload(TypedDict):
    type: Literal["killswitch.tripped"]
    mode: str
    reasons: list[str]


class FeedStatusPayload(TypedDict):
    type: Literal["feed.status"]
    connected: bool
    last_message_at: str | None  # ISO time of the last frame heard
    reconnects: int


class SettlementPayload(TypedDict):
    type: Literal["settlement"]
    mode: str
    ticker: str
    result: str
    pnl: str  # dollars, exact decimal string


Payload = (
    TradingStatePayload
    | PredictionPayload
    | OrderPayload
    | CyclePayload
    | BacktestProgressPayload
    | RiskBlockPayload
    | KillSwitchPayload
    | FeedStatusPayload
    | SettlementPayload
)

# The stream of each event type (its prefix before the dot, or the whole type).
STREAMS: dict[str, str] = {
    "trading": "trading",
    "order": "trading",
    "risk": "trading",
    "killswitch": "trading",
    "settlement": "trading",
    "prediction": "predictions",
    "backtest": "backtests",
    "feed": "feed",
}


def stream_of(event_type: str) -> str:
    """The stream (and group) an event type belongs to: ``order.filled`` → ``trading``."""
    return STREAMS[event_type.split(".", 1)[0]]


# Builders: one call at each place something happens.


def risk_block_event(*, mode: str, ticker: str, rules: Sequence[str], reason: str) -> RiskBlockPayload:
    return {"type": "risk.block", "mode": mode, "ticker": ticker, "rule": ", ".join(rules), "reason": reason}


def killswitch_event(*, mode: str, reasons: Sequence[str]) -> KillSwitchPayload:
    return {"type": "killswitch.tripped", "mode": mode, "reasons": list(reasons)}


def feed_status_event(*, connected: bool, last_message_at: datetime | None, reconnects: int) -> FeedStatusPayload:
    when = None if last_message_at is None else last_message_at.isoformat()
    return {"type": "feed.status", "connected": connected, "last_message_at": when, "reconnects": reconnects}


def settlement_event(*, mode: str, ticker: str, result: str, pnl: Decimal) -> SettlementPayload:
    return {"type": "settlement", "mode": mode, "ticker": ticker, "result": result, "pnl": str(pnl)}


# Sending.


class _ServerLoop(NamedTuple):
    loop: asyncio.AbstractEventLoop
    thread: int


_server: _ServerLoop | None = None
_scheduled: set[asyncio.Future[None]] = set()  # sends started on the server's own thread, kept until done


def register_server_loop() -> None:
    """Call from the ASGI server's event loop (every consumer does on connect): in-memory sends go there."""
    global _server
    _server = _ServerLoop(asyncio.get_running_loop(), threading.get_ident())


def broadcast(payload: Payload) -> None:
    """Send ``payload`` to every socket of its groups now. Failures are logged, not raised:
    a dashboard that misses an update must never break the action that caused it."""
    broadcast_all([payload])


def broadcast_all(payloads: Sequence[Payload]) -> None:
    """Send several payloads in order, in one trip to the channel layer (a cycle's orders, say)."""
    layer = get_channel_layer()
    if layer is None or not payloads:
        return
    send = _sender(layer, payloads)
    try:
        _run(send, layer)
    except Exception:
        logger.exception("Could not broadcast %s", ", ".join(p["type"] for p in payloads))


async def abroadcast(payload: Payload) -> None:
    """:func:`broadcast` for code in an event loop (the market feed's): awaits the send, never blocks the loop."""
    await abroadcast_all([payload])


async def abroadcast_all(payloads: Sequence[Payload]) -> None:
    layer = get_channel_layer()
    if layer is None or not payloads:
        return
    send = _sender(layer, payloads)
    server = _server
    try:
        if _hand_to_server(layer, server) and server is not None and server.loop is not asyncio.get_running_loop():
            handed = asyncio.run_coroutine_threadsafe(send(), server.loop)
            await asyncio.wait_for(asyncio.wrap_future(handed), SEND_TIMEOUT)
        else:
            await send()
    except Exception:
        logger.exception("Could not broadcast %s", ", ".join(p["type"] for p in payloads))


Send = Callable[[], Coroutine[Any, Any, None]]


def _sender(layer: BaseChannelLayer, payloads: Sequence[Payload]) -> Send:
    """What sends ``payloads``, in order, each to the events group and to its stream's group."""
    messages = [(group, dict(p)) for p in payloads for group in (EVENTS_GROUP, stream_of(p["type"]))]

    async def send() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    return send


def _hand_to_server(layer: BaseChannelLayer, server: _ServerLoop | None) -> bool:
    """Whether sends must run on the server's loop: the in-memory layer's, while that loop runs."""
    return isinstance(layer, InMemoryChannelLayer) and server is not None and server.loop.is_running()


def _run(send: Send, layer: BaseChannelLayer) -> None:
    server = _server
    if server is None or not _hand_to_server(layer, server):
        async_to_sync(send)()  # Redis (safe from any loop), or no server loop to wake
        return
    if threading.get_ident() == server.thread:
        # Sync code on the server's loop itself cannot wait for it; the loop runs the send next.
        task = asyncio.ensure_future(send(), loop=server.loop)
        _scheduled.add(task)
        task.add_done_callback(_scheduled.discard)
        return
    future = asyncio.run_coroutine_threadsafe(send(), server.loop)
    try:
        future.result(SEND_TIMEOUT)
    except TimeoutError:
        future.cancel()
        raise


def broadcast_on_commit(payload: Payload) -> None:
    transaction.on_commit(lambda: broadcast(payload))


def broadcast_all_on_commit(payloads: Sequence[Payload]) -> None:
    if payloads:
        transaction.on_commit(lambda: broadcast_all(payloads))
