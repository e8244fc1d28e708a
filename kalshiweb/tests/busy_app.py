"""An ASGI application for kalshiweb/tests/test_idle_accept.py. It sends its process id at once, then holds the
response open for ``?hold=SECONDS`` or until the client leaves, marked as serving the way kalshiweb.asgi's handler
marks each request: a client that has read the id knows that process is busy until the response ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from kalshiweb.idle_accept import serving_a_request


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    hold = float(scope["query_string"].decode().removeprefix("hold=") or 0)
    with serving_a_request(asyncio.get_running_loop()):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode(), "more_body": bool(hold)})
        if hold:  # in the real handler, the process's one sync thread serving a view
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_disconnected(receive), hold)
            await send({"type": "http.response.body", "body": b""})


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
