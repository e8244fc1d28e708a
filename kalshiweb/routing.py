"""WebSocket URL routes: every event on /ws/events/, one stream on /ws/<stream>/."""

from __future__ import annotations

from django.urls import path, re_path

from kalshiweb.consumers import LiveEventsConsumer, UnknownPathConsumer
from kalshiweb.realtime import STREAMS

websocket_urlpatterns = [
    path("ws/events/", LiveEventsConsumer.as_asgi()),
    *(path(f"ws/{stream}/", LiveEventsConsumer.as_asgi(group=stream)) for stream in sorted(set(STREAMS.values()))),
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last: anything else is refused, not an error
]
