"""ASGI entry point: Django over HTTP, Channels consumers over WebSocket."""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.urls import get_resolver

from kalshiweb.idle_accept import serving_a_request

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")
# On PostgreSQL the web's connection comes from a pool (see settings): a broken or expired connection is replaced
# without a request failing on it. Settings read it as they load, so only a process that starts here (the web's)
# gets it; it is taken back afterwards, so the processes this one starts (and a test process that imports this
# module) keep theirs.
_pool_asked_here = "DATABASE_POOL" not in os.environ
os.environ.setdefault("DATABASE_POOL", "1")


class SyncWorkerHandler(ASGIHandler):
    """Django's ASGI handler serving HTTP as a sync WSGI worker does: each request whole (middleware chain and
    view) in the process's one sync thread, one request at a time. WebSockets are Channels' and not affected.

    Every view here is sync, and Django's way of running sync views under ASGI cost more than the views:

    - It builds the middleware chain for async and adapts each piece that is not: our middlewares and
      WhiteNoise are sync only, and the MiddlewareMixin ones (sessions, CSRF, authentication, ...) run each
      hook through sync_to_async. A request for the admin's login page crossed between the event loop and a
      thread 19 times. Built sync, the chain and its view run in one crossing. (An async view would still
      work: Django adapts it to the sync chain.)
    - It runs each request in a ThreadSensitiveContext: a thread started and stopped for each request, what
      Django keeps per thread (the database wrapper; on PostgreSQL, the pool's connection) made anew in it, and
      a process's requests contending for its GIL. Without it, requests take turns in the process's one sync
      thread, as under gunicorn's sync workers; the web's processes (WEB_CONCURRENCY, two a CPU and one) serve
      in parallel.

    Measured on the web benchmark's year (SQLite, two requests in flight on 2 CPUs): the chain built sync took
    the p95 over every target from 64 to 46 ms; one thread a process then from 41 to 35 ms, and the throughput
    from 82 to 103 requests a second.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)  # type: ignore[has-type]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}: Channels routes the rest")
        with serving_a_request(asyncio.get_running_loop()):  # no new connection meanwhile (kalshiweb.idle_accept)
            await self.handle(scope, receive, send)


# Django must be set up before Channels and the routing import any models (as get_asgi_application does).
django.setup(set_prefix=False)
django_asgi_app = SyncWorkerHandler()
if _pool_asked_here:
    del os.environ["DATABASE_POOL"]

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from kalshiweb.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


def _freeze_what_start_up_made() -> None:
    """Import every view now rather than on the first request, then move all that start-up made (modules, classes,
    the URL patterns: some 200,000 objects) out of the collector's reach. Python's full collections otherwise walk
    it all again: about 100 ms held by whichever request was being served, every couple of hundred requests.
    Frozen, such a pause is under 10 ms."""
    get_resolver().url_patterns  # noqa: B018  # the import is the point
    gc.freeze()


_freeze_what_start_up_made()
