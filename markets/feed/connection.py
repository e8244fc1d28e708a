"""The authenticated WebSocket connection to Kalshi: subscribe, route frames, reconnect.

``FeedConnection.run`` keeps one connection open until stopped: it signs the
handshake like a REST request (GET of the WebSocket path), subscribes every
channel it was asked to watch, hands each data frame to the handler, follows
markets added while it runs, and, when the connection drops or the server
ends a subscription for good, reconnects after a backoff with jitter and
subscribes again. Sequence numbers restart with each subscription, so the
handler hears ``on_subscribed`` for every new ``sid`` and must treat what it
held before as stale until the new snapshot arrives.

Pings: Kalshi pings every 10 s; the websockets library answers them, and
pings the server itself (PING_INTERVAL) so a dead link is noticed without
waiting for the exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from markets.feed.backoff import Backoff
from markets.feed.protocol import (
    PER_MARKET,
    Acknowledged,
    Channel,
    Commands,
    Data,
    ProtocolError,
    Refused,
    Subscribed,
    encode,
    parse_frame,
    ws_path,
)

logger = logging.getLogger(__name__)

PING_INTERVAL = 20.0
OPEN_TIMEOUT = 10.0


class Signer(Protocol):
    def headers(self, method: str, path: str) -> dict[str, str]: ...


class FeedHandler(Protocol):
    def on_subscribed(self, channel: Channel, sid: int) -> None: ...

    def on_data(self, frame: Data, raw: str | bytes) -> None:
        """A data frame, typed, and as received (order books parse it again on their fast path)."""

    def on_disconnected(self) -> None: ...


@dataclass
class FeedState:
    """What the metrics and /health/ report about the feed."""

    connected: bool = False
    connects: int = 0
    reconnects: int = 0
    frames: int = 0
    last_frame_at: float | None = None  # monotonic seconds
    errors: list[str] = field(default_factory=list)

    def note(self, error: str) -> None:
        self.errors = [*self.errors[-19:], error]

    def last_frame_age(self, now: float) -> float | None:
        return None if self.last_frame_at is None else now - self.last_frame_at


class FeedConnection:
    """One Kalshi WebSocket connection, kept alive, for the channels and markets asked to ``watch``."""

    def __init__(
        self,
        url: str,
        signer: Signer,
        handler: FeedHandler,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = ws_path(url)
        self.url = url
        self._signer = signer
        self._handler = handler
        self._backoff = backoff or Backoff()
        self._clock = clock
        self.state = FeedState()
        self._markets: dict[Channel, list[str]] = {}  # per-market channels and their tickers, in order
        self._account: list[Channel] = []
        self._socket: ClientConnection | None = None
        self._commands = Commands()
        self._pending: dict[int, Channel] = {}  # subscribe command id → channel
        self._sids: dict[Channel, int] = {}

    @property
    def subscribed(self) -> frozenset[Channel]:
        """The channels the exchange has confirmed on the current connection."""
        return frozenset(self._sids)

    def watch(self, channel: Channel, tickers: Iterable[str] = ()) -> list[str]:
        """Watch ``channel`` (for ``tickers``, on per-market channels); returns the tickers that are new.

        Before ``run`` it only records the wish; while connected it also adds
        them to the live subscription.
        """
        if channel not in PER_MARKET:
            if channel not in self._account:
                self._account.append(channel)
            return []
        known = self._markets.setdefault(channel, [])
        new = [t for t in dict.fromkeys(tickers) if t not in known]
        known.extend(new)
        return new

    async def follow(self, channel: Channel, tickers: Iterable[str]) -> None:
        """Watch more markets now: add them to the channel's subscription (or subscribe it)."""
        new = self.watch(channel, tickers)
        if not new or self._socket is None:
            return
        sid = self._sids.get(channel)
        if sid is None:
            await self._subscribe(channel)
        else:
            await self._send(self._commands.add_markets(sid, new))

    async def resync(self, channel: Channel, tickers: Iterable[str]) -> bool:
        """Ask for fresh snapshots of ``tickers`` (after a gap); False when not subscribed right now."""
        sid = self._sids.get(channel)
        wanted = list(tickers)
        if sid is None or self._socket is None or not wanted:
            return False
        await self._send(self._commands.get_snapshot(sid, wanted))
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until ``stop`` is set, reconnecting after drops with backoff and jitter."""
        while not stop.is_set():
            try:
                await self._connect_once(stop)
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                self.state.note(f"{type(exc).__name__}: {exc}")
                logger.warning("Kalshi WebSocket: %s: %s", type(exc).__name__, exc)
            except InvalidURI as exc:
                raise ValueError(f"bad Kalshi WebSocket URL {self.url!r}: {exc}") from exc
            finally:
                self._lost()
            if stop.is_set():
                break
            delay = self._backoff.next_delay()
            logger.info("Kalshi WebSocket: reconnecting in %.2f s", delay)
            with contextlib.suppress(TimeoutError):  # the delay passed without a stop
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def _connect_once(self, stop: asyncio.Event) -> None:
        headers = self._signer.headers("GET", self._path)
        async with connect(
            self.url, additional_headers=headers, open_timeout=OPEN_TIMEOUT, ping_interval=PING_INTERVAL
        ) as socket:
            self._socket = socket
            self._commands = Commands()
            self.state.connected = True
            self.state.connects += 1
            if self.state.connects > 1:
                self.state.reconnects += 1
            for channel in (*self._markets, *self._account):
                await self._subscribe(channel)
            reader = asyncio.ensure_future(self._read(socket))
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopper.cancel()
                if not reader.done():
                    reader.cancel()
                    await socket.close()
            if reader.done() and not reader.cancelled():
                error = reader.exception()
                if error is not None:
                    raise error

    async def _read(self, socket: ClientConnection) -> None:
        async for raw in socket:
            self.state.frames += 1
            self.state.last_frame_at = self._clock()
            try:
                frame = parse_frame(raw)
            except ProtocolError as exc:
                self.state.note(str(exc))
                logger.warning("Kalshi WebSocket: %s", exc)
                continue
            if isinstance(frame, Data):
                self._handler.on_data(frame, raw)
            elif isinstance(frame, Subscribed):
                self._subscribed(frame)
            elif isinstance(frame, Refused):
                self._refused(frame)
                if frame.terminal:
                    await socket.close()  # the subscription is gone: reconnect and subscribe again
                    return
            elif isinstance(frame, Acknowledged):
                continue

    def _subscribed(self, frame: Subscribed) -> None:
        channel = self._pending.pop(frame.command_id, None) if frame.command_id is not None else None
        if channel is None:
            try:
                channel = Channel(frame.channel)
            except ValueError:
                self.state.note(f"subscribed to an unexpected channel {frame.channel!r}")
                return
        self._sids[channel] = frame.sid
        self._backoff.reset()  # the exchange took a subscription: this connection holds
        self._handler.on_subscribed(channel, frame.sid)

    def _refused(self, frame: Refused) -> None:
        if frame.command_id is not None:
            self._pending.pop(frame.command_id, None)
        self.state.note(frame.describe())
        logger.warning("%s", frame.describe())

    async def _subscribe(self, channel: Channel) -> None:
        command = self._commands.subscribe(channel, self._markets.get(channel, ()))
        self._pending[command["id"]] = channel
        await self._send(command)

    async def _send(self, command: dict[str, object]) -> None:
        if self._socket is None:
            raise ConnectionError("the Kalshi WebSocket is not connected")
        await self._socket.send(encode(command))

    def _lost(self) -> None:
        was_connected = self.state.connected
        self.state.connected = False
        self._socket = None
        self._pending.clear()
        self._sids.clear()
        if was_connected:
            self._handler.on_disconnected()
