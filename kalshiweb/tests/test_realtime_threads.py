"""Events sent from threads other than the ASGI server's loop reach the sockets (the embedded runner's case).

The in-memory channel layer's queues belong to the server's event loop and
are not thread-safe: a put from another thread's loop (async_to_sync in the
Celery worker's thread) sets the waiting consumer's future without waking its
loop, and the event sits unseen. kalshiweb.realtime runs those sends on the
server's loop instead.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from kalshiweb.consumers import LiveEventsConsumer
from kalshiweb.realtime import CyclePayload, abroadcast, broadcast, register_server_loop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]

EVENT = CyclePayload(type="trading.cycle", mode="DRY", outcome="done", placed=2)


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    """The embedded runner's layer, fresh for each test, whatever REDIS_URL says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert isinstance(get_channel_layer(), InMemoryChannelLayer)


@pytest.fixture
async def staff_socket(django_user_model):
    staff = await sync_to_async(django_user_model.objects.create_superuser)("ops", "", "pw")
    communicator = WebsocketCommunicator(LiveEventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = staff
    connected, _ = await communicator.connect()
    assert connected
    yield communicator
    await communicator.disconnect()
    await sync_to_async(connections.close_all)()


async def test_an_event_sent_from_a_worker_thread_wakes_the_waiting_socket(staff_socket):
    # A plain thread, as the embedded Celery worker's: no event loop, no asgiref context.
    sender = threading.Thread(target=broadcast, args=(EVENT,), name="celery-worker")
    sender.start()
    try:
        assert await staff_socket.receive_json_from(timeout=3) == EVENT
    finally:
        await asyncio.to_thread(sender.join, 10)
    assert await staff_socket.receive_nothing(timeout=0.2)


@pytest.mark.parametrize("how", ["awaited", "from a worker thread of that loop"])
async def test_an_event_sent_from_another_threads_event_loop_arrives(staff_socket, how):
    # The market feed's thread runs its own loop.
    async def feed() -> None:
        if how == "awaited":
            await abroadcast(EVENT)
        else:
            await sync_to_async(broadcast)(EVENT)

    sender = threading.Thread(target=asyncio.run, args=(feed(),), name="market-feed")
    sender.start()
    try:
        assert await staff_socket.receive_json_from(timeout=3) == EVENT
    finally:
        await asyncio.to_thread(sender.join, 10)


async def test_an_event_sent_by_sync_code_on_the_servers_own_loop_is_scheduled_not_blocked(staff_socket):
    broadcast(EVENT)  # waiting here for the loop it runs on would deadlock; it is sent when we next await
    assert await staff_socket.receive_json_from(timeout=3) == EVENT


def test_a_server_loop_that_does_not_answer_in_time_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setattr("kalshiweb.realtime._server", None)  # restored after the test
    monkeypatch.setattr("kalshiweb.realtime.SEND_TIMEOUT", 0.2)
    loop, busy = asyncio.new_event_loop(), threading.Event()
    server = threading.Thread(target=loop.run_forever, name="asgi-server", daemon=True)
    server.start()
    try:
        asyncio.run_coroutine_threadsafe(_register(), loop).result(5)
        loop.call_soon_threadsafe(busy.wait, 5)  # a handler that holds the loop
        with caplog.at_level("ERROR", logger="kalshiweb.realtime"):
            broadcast(EVENT)  # returns: the action that caused the event goes on
        assert "Could not broadcast trading.cycle" in caplog.text
    finally:
        busy.set()
        # Let the loop reach the abandoned send (cancelled, never started) before closing it, so its coroutine ends.
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        server.join(5)
        loop.close()


async def _register() -> None:
    register_server_loop()
