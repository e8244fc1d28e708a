"""WebSocket consumers. They authenticate, join groups and forward; nothing else."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from kalshiweb.realtime import EVENTS_GROUP


class LiveEventsConsumer(AsyncJsonWebsocketConsumer):
    """Streams live events to staff: trading state, predictions, orders and trading cycles.

    Channels calls the method named after each event's type (``order.filled``
    → ``order_filled``); an event without one would close the socket, so every
    payload type in kalshiweb.realtime has its forwarder here (a test checks).
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(EVENTS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(EVENTS_GROUP, self.channel_name)

    async def trading_state(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def prediction_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def order_placed(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def order_filled(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def order_rejected(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def order_canceled(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def order_unknown(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def trading_cycle(self, event: dict[str, Any]) -> None:
        await self.send_json(event)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Every other WebSocket path: refused with 4404, not an exception in the server's log (a 500)."""

    async def connect(self) -> None:
        await self.close(code=4404)
