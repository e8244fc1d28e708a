"""Run the local exchange: REST (uvicorn) and WebSocket side by side, over one Exchange.

Point the product at it with ``KALSHI_API_BASE=http://127.0.0.1:<rest>/trade-api/v2`` and
``KALSHI_WS_BASE=ws://127.0.0.1:<ws>/trade-api/ws/v2`` (the client allows plain http and ws only to
loopback hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn

from localexchange.rest import BASE, RestApp
from localexchange.ws import LocalFeed
from markets.feed.protocol import WS_PATH


@dataclass(frozen=True)
class Running:
    rest_url: str  # the REST base URL, .../trade-api/v2
    ws_url: str


@contextlib.asynccontextmanager
async def running(
    feed: LocalFeed, *, host: str = "127.0.0.1", rest_port: int = 0, ws_port: int = 0
) -> AsyncIterator[Running]:
    """Serve ``feed``'s exchange over REST and WebSocket until the block ends."""
    ws_server = await feed.serve(host, ws_port)
    config = uvicorn.Config(RestApp(feed), host=host, port=rest_port, lifespan="off", log_config=None, access_log=False)
    rest_server = uvicorn.Server(config)
    task = asyncio.create_task(rest_server.serve())
    try:
        while not rest_server.started:
            if task.done():
                task.result()  # raises why it could not start (a port in use, say)
            await asyncio.sleep(0.01)
        rest_bound = rest_server.servers[0].sockets[0].getsockname()[1]
        ws_bound = ws_server.sockets[0].getsockname()[1]
        yield Running(f"http://{host}:{rest_bound}{BASE}", f"ws://{host}:{ws_bound}{WS_PATH}")
    finally:
        rest_server.should_exit = True
        await task
        ws_server.close()
        await ws_server.wait_closed()
