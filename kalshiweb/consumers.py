"""WebSocket consumers. They authenticate, join groups and forward; nothing else."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from kalshiweb.realtime import EVENTS_GROUP


class LiveEventsConsumer(AsyncJsonWebsocketConsumer):
    """Streams live events (trading state now; orders, fills and prices later) to staff."""

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
