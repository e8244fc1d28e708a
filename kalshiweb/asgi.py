"""ASGI entry point: Django over HTTP, Channels consumers over WebSocket."""

from __future__ import annotations

import gc
import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")
# Requests are served from a thread each: on PostgreSQL, a pool of connections (see settings) rather than a new one
# a request. Settings read it as they load, so only a process that starts here (the web's) gets it; it is taken
# back afterwards, so the processes this one starts (and a test process that imports this module) keep theirs.
_pool_asked_here = "DATABASE_POOL" not in os.environ
os.environ.setdefault("DATABASE_POOL", "1")


class SyncMiddlewareHandler(ASGIHandler):
    """Django's ASGI handler with its middleware chain built synchronously, entered in the request's thread once.

    Under ASGI, Django builds the chain for async and adapts each piece that is not: our own middlewares and
    WhiteNoise are sync only, and the MiddlewareMixin ones (sessions, CSRF, authentication, ...) run each hook
    through sync_to_async. A request for the admin's login page crossed between the event loop and a thread 19
    times, 5 to 8 ms of every answer on a 2-CPU machine. Every view here is sync, so the async chain gains
    nothing: built sync, the chain and its view run in one crossing. (An async view would still work: Django
    adapts it to the sync chain.)
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)  # type: ignore[has-type]


# Django must be set up before Channels and the routing import any models (as get_asgi_application does).
django.setup(set_prefix=False)
django_asgi_app = SyncMiddlewareHandler()
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
