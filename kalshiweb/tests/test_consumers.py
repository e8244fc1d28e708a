"""The live sockets through the real ASGI application: a browser's session cookie, routing, groups and the layer.

They run on whichever channel layer the settings configure: in memory here,
Redis in CI's second pass (REDIS_URL set), each test with its own layer (and
key prefix), so other tests' events never reach these sockets.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections, transaction
from django.test import Client

from kalshiweb.asgi import application
from kalshiweb.realtime import (
    STREAMS,
    BacktestProgressPayload,
    CyclePayload,
    OrderPayload,
    Payload,
    PredictionPayload,
    TradingStatePayload,
    broadcast_all_on_commit,
    broadcast_on_commit,
    feed_status_event,
    killswitch_event,
    risk_block_event,
    settlement_event,
    stream_of,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]

ORIGIN = (b"origin", b"http://127.0.0.1")
STREAM_PATHS = {stream: f"/ws/{stream}/" for stream in sorted(set(STREAMS.values()))}
PATHS = ["/ws/events/", *STREAM_PATHS.values()]


@pytest.fixture(autouse=True)
def own_channel_layer(settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    if "CONFIG" in layers["default"]:  # Redis: a key prefix of our own
        layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CHANNEL_LAYERS = layers  # setting_changed makes channels build a fresh layer


@pytest.fixture(autouse=True)
async def close_thread_connections():
    """ORM calls here run in other threads; close their connections so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def _session_headers(user: Any) -> list[tuple[bytes, bytes]]:
    if user is None:
        return [ORIGIN]
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [ORIGIN, (b"cookie", cookie.encode())]


@pytest.fixture
async def staff_headers(django_user_model) -> list[tuple[bytes, bytes]]:
    staff = await sync_to_async(django_user_model.objects.create_user)("desk", "", "pw", is_staff=True)
    return await sync_to_async(_session_headers)(staff)


@pytest.fixture
async def open_socket(staff_headers) -> AsyncIterator[Callable[[str], Awaitable[WebsocketCommunicator]]]:
    opened: list[WebsocketCommunicator] = []

    async def open_(path: str) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(application, path, headers=staff_headers)
        connected, code = await communicator.connect()
        assert connected, code
        opened.append(communicator)
        return communicator

    yield open_
    for communicator in opened:
        await communicator.disconnect()


def order(kind: Any, status: str, filled: str = "0") -> OrderPayload:
    return OrderPayload(
        type=kind, mode="DRY", ticker="KXHIGHNY-B40", client_order_id="c1", status=status, filled=filled, price="0.41"
    )


def burst() -> list[Payload]:
    """One event of every kind, in an order that mixes the streams."""
    return [
        order("order.placed", "resting"),
        PredictionPayload(
            type="prediction.update",
            event="KXHIGHNY-25FEB28",
            as_of="2025-02-28T15:00:00+00:00",
            model="v3",
            brackets={"KXHIGHNY-B40": "0.7531", "KXHIGHNY-T42": "0.2469"},
        ),
        order("order.filled", "executed", filled="10"),
        risk_block_event(mode="DRY", ticker="KXHIGHNY-T42", rules=["max_position"], reason="at the limit"),
        feed_status_event(connected=False, last_message_at=None, reconnects=3),
        BacktestProgressPayload(type="backtest.progress", run=7, status="running", done=3, total=10, message="day 3"),
        killswitch_event(mode="DRY", reasons=["drawdown $200.00 from peak reached the limit $150.00"]),
        TradingStatePayload(
            type="trading.state",
            state="halted",
            label="Halted",
            reason="tripped",
            changed_by="system:drawdown",
            changed_at="2025-02-28T15:00:00+00:00",
        ),
        order("order.canceled", "canceled"),
        order("order.rejected", "rejected"),
        order("order.unknown", "unknown"),
        settlement_event(mode="DRY", ticker="KXHIGHNY-B40", result="yes", pnl=Decimal("5.90")),
        CyclePayload(type="trading.cycle", mode="DRY", outcome="skipped", placed=0),
        BacktestProgressPayload(type="backtest.progress", run=7, status="done", done=10, total=10, message=""),
    ]


def send_after_commit(payloads: list[Payload]) -> None:
    """A rolled-back change tells nobody; then the burst, half batched and half one by one, after commit."""
    try:
        with transaction.atomic():
            broadcast_on_commit(CyclePayload(type="trading.cycle", mode="DRY", outcome="rolled back", placed=9))
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    half = len(payloads) // 2
    with transaction.atomic():
        broadcast_all_on_commit(payloads[:half])
        for payload in payloads[half:]:
            broadcast_on_commit(payload)


async def send_from(sender: str, payloads: list[Payload]) -> None:
    if sender == "request thread":  # a Django view under the ASGI server: sync_to_async
        await sync_to_async(send_after_commit)(payloads)
        return

    # A thread of its own, as the embedded Celery worker's.
    def work() -> None:
        try:
            send_after_commit(payloads)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name="celery-worker")
    thread.start()
    await asyncio.to_thread(thread.join, 10)


async def heard(communicator: WebsocketCommunicator, count: int) -> list[dict[str, object]]:
    return [await communicator.receive_json_from(timeout=5) for _ in range(count)]


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_and_non_staff_sockets_are_refused(path, django_user_model):
    viewer = await sync_to_async(django_user_model.objects.create_user)("viewer", "", "pw")
    for user in (None, viewer):
        headers = await sync_to_async(_session_headers)(user)
        communicator = WebsocketCommunicator(application, path, headers=headers)
        assert await communicator.connect() == (False, 4403)


@pytest.mark.parametrize("path", ["/ws/nope/", "/", "/ws/events/extra", "/ws/trading"])
async def test_an_unknown_path_is_refused_even_for_staff(path, staff_headers):
    communicator = WebsocketCommunicator(application, path, headers=staff_headers)
    assert await communicator.connect() == (False, 4404)


@pytest.mark.parametrize("sender", ["request thread", "worker thread"])
async def test_every_event_arrives_once_and_in_order(sender, open_socket):
    socket = await open_socket("/ws/events/")
    payloads = burst()
    await send_from(sender, payloads)
    assert await heard(socket, len(payloads)) == payloads
    assert await socket.receive_nothing(timeout=0.3)


async def test_a_stream_socket_hears_its_stream_only(open_socket):
    everything = await open_socket("/ws/events/")
    streams = {stream: await open_socket(path) for stream, path in STREAM_PATHS.items()}
    payloads = burst()
    await send_from("worker thread", payloads)
    assert await heard(everything, len(payloads)) == payloads
    for stream, socket in streams.items():
        mine = [p for p in payloads if stream_of(p["type"]) == stream]
        assert mine, stream  # the burst has something for every stream
        assert await heard(socket, len(mine)) == mine
        assert await socket.receive_nothing(timeout=0.2)
    assert await everything.receive_nothing(timeout=0.2)


async def test_a_closed_socket_does_not_stop_the_others_hearing(open_socket):
    first, second = await open_socket("/ws/trading/"), await open_socket("/ws/trading/")
    await first.disconnect()
    payload = killswitch_event(mode="DRY", reasons=["stale books"])
    await send_from("worker thread", [payload])
    assert await second.receive_json_from(timeout=5) == payload


async def test_what_a_browser_sends_is_ignored(open_socket):
    socket = await open_socket("/ws/feed/")
    await socket.send_to(text_data="{not json")
    await socket.send_to(bytes_data=b"\x00")
    payload = feed_status_event(connected=True, last_message_at=None, reconnects=0)
    await send_from("worker thread", [payload])
    assert await socket.receive_json_from(timeout=5) == payload
