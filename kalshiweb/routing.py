"""WebSocket URL routes, gathered from the apps."""

from __future__ import annotations

from django.urls import path, re_path

from kalshiweb.consumers import LiveEventsConsumer, UnknownPathConsumer

websocket_urlpatterns = [
    path("ws/events/", LiveEventsConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last: anything else is refused, not an error
]
