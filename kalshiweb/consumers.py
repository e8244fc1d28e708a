"""WebSocket consumers. They authenticate, join one group and forward; nothing else."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from kalshiweb.metrics import WEBSOCKET_CONNECTIONS, WEBSOCKET_CONNECTIONS_TOTAL
from kalshiweb.realtime import EVENTS_GROUP, register_server_loop


class LiveEventsConsumer(AsyncJsonWebsocketConsumer):
    """Streams live events to staff: every event (``/ws/events/``) or one stream's (``as_asgi(group="feed")``).

    Channels calls the method named after each event's type (``order.filled``
    → ``order_filled``); an event without one would close the socket, so every
    payload type in kalshiweb.realtime has its forwarder here (a test checks).
    """

    def __init__(self, *args: Any, group: str = EVENTS_GROUP, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        self.joined = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4403)
            return
        register_server_loop()  # the in-memory layer's sends from other threads must run on this loop
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True  # counted open from here, so disconnect's decrement always matches
        WEBSOCKET_CONNECTIONS.labels(self.group).inc()
        WEBSOCKET_CONNECTIONS_TOTAL.labels(self.group).inc()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.joined:
            WEBSOCKET_CONNECTIONS.labels(self.group).dec()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Browsers have nothing to say here: what they send is ignored (unparsed, so it cannot break the socket)."""

    async def forward(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    trading_state = forward
    trading_cycle = forward
    prediction_update = forward
    order_placed = forward
    order_filled = forward
    order_rejected = forward
    order_canceled = forward
    order_unknown = forward
    backtest_progress = forward
    risk_block = forward
    killswitch_tripped = forward
    feed_status = forward
    settlement = forward


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Every other WebSocket path: refused with 4404, not an exception in the server's log (a 500)."""

    async def connect(self) -> None:
        await self.close(code=4404)
