"""WebSocket URL routes, gathered from the apps."""

from __future__ import annotations

from django.urls import path

from kalshiweb.consumers import LiveEventsConsumer

websocket_urlpatterns = [
    path("ws/events/", LiveEventsConsumer.as_asgi()),
]
