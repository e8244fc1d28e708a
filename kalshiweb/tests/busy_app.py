"""An ASGI application for kalshiweb/tests/test_idle_accept.py: it answers with its process id, after holding the
request ``?hold=SECONDS``, marked as serving the way kalshiweb.asgi's handler marks each request."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from kalshiweb.idle_accept import serving_a_request


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    hold = float(scope["query_string"].decode().removeprefix("hold=") or 0)
    with serving_a_request(asyncio.get_running_loop()):
        await asyncio.sleep(hold)  # in the real handler, the process's one sync thread serving a view
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
