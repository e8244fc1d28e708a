from __future__ import annotations

from typing import Any, get_args, get_type_hints

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.utils import timezone

from kalshiweb.asgi import application
from kalshiweb.consumers import LiveEventsConsumer
from kalshiweb.realtime import STREAMS, OrderPayload, Payload, broadcast_all, stream_of
from kalshiweb.routing import websocket_urlpatterns
from trading.services import halt_trading

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


@pytest.fixture(autouse=True)
async def close_thread_connections():
    """ORM calls here run in asgiref's sync thread; close its connection so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def communicator_for(user):
    communicator = WebsocketCommunicator(LiveEventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    return communicator


async def test_staff_receive_trading_state_changes(django_user_model):
    staff = await sync_to_async(django_user_model.objects.create_superuser)("ops", "", "pw")
    communicator = communicator_for(staff)
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(halt_trading)(reason="exchange maintenance", actor="ops", now=timezone.now())
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "trading.state"
    assert message["state"] == "halted"
    assert message["label"] == "Halted"
    assert message["reason"] == "exchange maintenance"
    assert message["changed_by"] == "ops"
    await communicator.disconnect()


async def test_it_refuses_anonymous_and_non_staff_sockets(django_user_model):
    communicator = communicator_for(AnonymousUser())
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)
    plain = await sync_to_async(django_user_model.objects.create_user)("viewer", "", "pw")
    communicator = communicator_for(plain)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_the_asgi_application_routes_websockets():
    communicator = WebsocketCommunicator(application, "/ws/events/", headers=[(b"origin", b"http://127.0.0.1")])
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)  # routed to the consumer, which refuses the anonymous user


def event_types() -> list[str]:
    """Every ``type`` a payload of kalshiweb.realtime can carry."""
    types: list[str] = []
    for payload in get_args(Payload):
        types.extend(get_args(get_type_hints(payload)["type"]))
    return types


CONTRACT_TYPES = {
    "trading.state", "prediction.update", "order.placed", "order.filled", "order.rejected", "order.canceled",
    "order.unknown", "trading.cycle", "backtest.progress", "risk.block", "killswitch.tripped", "feed.status",
    "settlement",
}  # fmt: skip


async def test_every_event_type_has_its_forwarder():
    """A type the consumer cannot handle would raise in Channels and drop the operator's socket."""
    assert set(event_types()) == CONTRACT_TYPES
    missing = [t for t in event_types() if not callable(getattr(LiveEventsConsumer, t.replace(".", "_"), None))]
    assert missing == []


async def test_every_event_type_has_a_stream_with_its_route():
    routes = {str(p.pattern) for p in websocket_urlpatterns}
    assert {f"ws/{stream_of(t)}/" for t in event_types()} | {"ws/events/"} <= routes
    assert set(STREAMS.values()) == {"trading", "predictions", "backtests", "feed"}


async def test_staff_receive_each_order_event_once_and_in_order(django_user_model):
    staff = await sync_to_async(django_user_model.objects.create_superuser)("ops2", "", "pw")
    communicator = communicator_for(staff)
    connected, _ = await communicator.connect()
    assert connected
    kinds: list[Any] = ["order.placed", "order.filled", "order.canceled", "order.rejected", "order.unknown"]
    events: list[Payload] = [
        OrderPayload(type=kind, mode="DRY", ticker="T", client_order_id=f"c{n}", status="s", filled="0", price="0.40")
        for n, kind in enumerate(kinds)
    ]
    await sync_to_async(broadcast_all)(events)
    heard = [await communicator.receive_json_from(timeout=5) for _ in events]
    assert [m["client_order_id"] for m in heard] == ["c0", "c1", "c2", "c3", "c4"]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/nope/", "/", "/ws/events/extra"])
async def test_an_unknown_websocket_path_is_refused_not_an_error(path):
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://127.0.0.1")])
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4404)
