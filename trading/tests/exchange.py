"""The local exchange served on loopback from a background thread, and our real KalshiClient signed in to it.

The server runs its own event loop in a thread, so a test stays synchronous
and keeps its database work on its own thread (and in its own transaction).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kalshiweb.modes import KalshiEnvironment, TradingMode
from localexchange.exchange import Exchange
from localexchange.server import Running, running
from localexchange.ws import Faults, LocalFeed
from markets.client import KalshiClient
from markets.signing import RequestSigner
from markets.transport import ClientConfig, Timeouts

MEMBER = "bot"


@dataclass(frozen=True)
class Served:
    client: KalshiClient
    feed: LocalFeed  # its ``faults`` may be changed while serving
    urls: Running


@contextlib.contextmanager
def serving(
    exchange: Exchange, key: Any, *, mode: TradingMode = TradingMode.DEMO, signing_key: Any = None
) -> Iterator[KalshiClient]:
    """Serve ``exchange`` over REST and WebSocket until the block ends; yields a client signed in as ``bot``.

    ``key`` is the one the exchange registers for ``bot``; the client signs with ``signing_key`` (default: it).
    """
    with served(exchange, key, mode=mode, signing_key=signing_key) as running_exchange:
        yield running_exchange.client


@contextlib.contextmanager
def served(
    exchange: Exchange,
    key: Any,
    *,
    mode: TradingMode = TradingMode.DEMO,
    signing_key: Any = None,
    faults: Faults | None = None,
    timeouts: Timeouts | None = None,
) -> Iterator[Served]:
    """:func:`serving`, with faults injected from a seeded script and the client's timeouts chosen."""
    feed = LocalFeed(exchange, {MEMBER: key.public_key()}, faults=faults)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[Running] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with running(feed) as urls:
                started.set_result(urls)
                await stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        urls = started.result(timeout=10)
        environment = KalshiEnvironment.PROD if mode is TradingMode.LIVE else KalshiEnvironment.DEMO
        signer = RequestSigner(MEMBER, signing_key or key)
        config = ClientConfig(urls.rest_url, environment, mode, signer=signer, timeouts=timeouts or Timeouts())
        with KalshiClient(config) as client:
            yield Served(client, feed, urls)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
