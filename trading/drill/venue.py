"""The local exchange served on loopback, its market makers, and our real client signed in to it.

The server runs its own event loop in a thread, so the trading side stays
synchronous and keeps its database work on its own thread. Anything that
touches the exchange's state from outside (makers requoting, reading its
record for an audit) goes through that loop: :meth:`Served.call` and
:meth:`Served.run`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from kalshiweb.modes import KalshiEnvironment, TradingMode
from localexchange.exchange import Exchange
from localexchange.makers import Maker, random_walk
from localexchange.server import Running, running
from localexchange.ws import Faults, LocalFeed
from markets.client import KalshiClient
from markets.signing import RequestSigner
from markets.transport import ClientConfig, RetryPolicy, Timeouts
from trading.drill.world import World
from trading.snapshot import fee_schedule

MEMBER = "bot"  # our account at the local exchange: the key id the client signs with
MAKER = "maker"
STARTED_WITHIN = 10.0  # seconds for the servers to start or stop
T = TypeVar("T")


@dataclass(frozen=True)
class Served:
    client: KalshiClient
    feed: LocalFeed  # its ``faults`` may be changed while serving
    urls: Running
    loop: asyncio.AbstractEventLoop

    def run(self, work: Coroutine[Any, Any, T], *, timeout: float = 30.0) -> T:
        """Run ``work`` in the exchange's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def call(self, read: Callable[[], T]) -> T:
        """Call ``read`` in the exchange's event loop, between two of its steps (a consistent view)."""

        async def inside() -> T:
            return read()

        return self.run(inside())


@contextlib.contextmanager
def serve(
    exchange: Exchange,
    key: Any,
    *,
    mode: TradingMode = TradingMode.DEMO,
    signing_key: Any = None,
    faults: Faults | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
) -> Iterator[Served]:
    """Serve ``exchange`` over REST and WebSocket until the block ends, with a client signed in as ``MEMBER``.

    ``key`` is the one the exchange registers for ``MEMBER``; the client signs with ``signing_key`` (default: it).
    """
    feed = LocalFeed(exchange, {MEMBER: key.public_key()}, faults=faults)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[Running] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve_until_stopped() -> None:
        try:
            async with running(feed) as urls:
                started.set_result(urls)
                await stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve_until_stopped(),), daemon=True)
    thread.start()
    try:
        urls = started.result(timeout=STARTED_WITHIN)
        environment = KalshiEnvironment.PROD if mode is TradingMode.LIVE else KalshiEnvironment.DEMO
        signer = RequestSigner(MEMBER, signing_key or key)
        config = ClientConfig(
            urls.rest_url,
            environment,
            mode,
            signer=signer,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
        )
        with KalshiClient(config) as client:
            yield Served(client, feed, urls, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=STARTED_WITHIN)
        loop.close()


class Background(Generic[T]):
    """An async task in a thread and event loop of its own (the feed, as the embedded runner runs it)."""

    def __init__(self, main: Callable[[asyncio.Event], Awaitable[T]]) -> None:
        self._main = main
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._result: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(STARTED_WITHIN)

    def _run(self) -> None:
        async def main() -> T:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            return await self._main(self._stop)

        try:
            self._result.set_result(asyncio.run(main()))
        except BaseException as exc:
            self._result.set_exception(exc)
        finally:
            self._ready.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = STARTED_WITHIN) -> T:
        """Set its stop event and wait for it to end; its result (or its error, raised)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it ended by itself
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        return self._result.result(timeout=0)


@contextlib.contextmanager
def in_background(main: Callable[[asyncio.Event], Awaitable[T]]) -> Iterator[Background[T]]:
    """Run ``main(stop)`` in its own thread until the block ends (then ``stop`` is set and it is awaited)."""
    background = Background(main)
    background.start()
    try:
        yield background
    finally:
        if background.running:
            with contextlib.suppress(Exception):  # the block's own error, if any, is the one to see
                background.stop()


def open_exchange(worlds: Sequence[World], *, bankroll: Decimal, maker_balance: Decimal) -> Exchange:
    """An exchange listing every world's markets with their series' fees; our account and the maker's funded."""
    exchange = Exchange()
    open_markets(exchange, worlds)
    exchange.deposit(MEMBER, bankroll)
    exchange.deposit(MAKER, maker_balance)
    return exchange


def open_markets(exchange: Exchange, worlds: Sequence[World]) -> None:
    for world in worlds:
        for market in world.markets:
            exchange.open_market(
                market.ticker, fee_schedule(world.event, [market]), event_ticker=world.event.event_ticker
            )


def quoting(fair: dict[str, Decimal], *, rng: random.Random, step: Decimal = Decimal("0.02")) -> Maker:
    """A maker quoting each market around a seeded random walk from its fair price."""
    return Maker(MAKER, {ticker: random_walk(price, step=step, rng=rng) for ticker, price in fair.items()})
