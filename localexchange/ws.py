"""The local exchange's WebSocket: Kalshi's frames from our matching books, faults on demand.

Speaks the subset of Kalshi's WebSocket protocol the bot uses (see
markets.feed.protocol): a handshake signed with a key the exchange knows,
``subscribe`` / ``update_subscription`` (add_markets, delete_markets,
get_snapshot) / ``unsubscribe``, and ``orderbook_snapshot``,
``orderbook_delta``, ``trade`` and ``fill`` frames, each data frame with its
subscription's ``sid`` and consecutive ``seq``.

Faults come from a seeded script, so a failing run can be replayed: a
sequence gap (a seq skipped), a frame sent twice, two frames swapped, a
dropped connection after a given number of frames, a delta dropped with no
seq skipped (a stale book, which only a fresh snapshot reveals).

Orders enter through :meth:`LocalFeed.place` (the REST side and the market
makers call it); every change of a book goes out to its subscribers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from localexchange.auth import authenticated_member
from localexchange.exchange import Exchange
from localexchange.matching import Execution, LevelChange, NewOrder, Placed
from markets.feed.protocol import WS_PATH
from markets.schemas.orders import fixed_count, fixed_price
from markets.signing import KEY_HEADER

logger = logging.getLogger(__name__)


@dataclass
class Faults:
    """The exchange's seeded faults: on WebSocket frames (rates per frame) and on REST requests (per request).

    ``drop_after`` closes each connection after that many data frames. On REST, ``latency`` delays every
    answer by up to that many seconds; ``rate_limit_rate`` answers 429 (with Retry-After) and
    ``server_error_rate`` 503, before anything happens; ``hang_rate`` accepts an order and then holds
    its answer for ``hang_seconds``, so the client times out on an order that rests on the exchange;
    ``unreadable_seconds`` hides a new order from GET /portfolio/orders/{id} that long after it was accepted.
    """

    seed: int = 0
    gap_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    drop_after: int | None = None
    latency: float = 0.0
    rate_limit_rate: float = 0.0
    server_error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    unreadable_seconds: float = 0.0  # GET of an order answers 404 until it is this old
    stale_rate: float = 0.0  # book deltas dropped without a seq skipped: a book that drifts unseen
    rng: random.Random = field(init=False)
    injected: Counter[str] = field(init=False, default_factory=Counter)  # kind → faults injected so far

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - replayable faults, not secrets

    def roll(self, rate: float, kind: str, *, applies: bool = True) -> bool:
        """Whether to inject a fault of ``kind`` now (counted when it is); one that cannot apply is drawn, not counted.

        Drawing either way keeps a seed's script the same whatever the counting.
        """
        if rate > 0 and self.rng.random() < rate and applies:
            self.injected[kind] += 1
            return True
        return False

    def count(self, kind: str) -> None:
        """Count a fault injected without a roll (a dropped connection, a delayed or unreadable answer)."""
        self.injected[kind] += 1


@dataclass
class _Subscription:
    sid: int
    channel: str
    tickers: set[str]
    member: str
    seq: int = 0


class _Client:
    """One connection: its member, subscriptions, and the frames it has been sent."""

    def __init__(self, connection: ServerConnection, member: str) -> None:
        self.connection = connection
        self.member = member
        self.subscriptions: dict[int, _Subscription] = {}
        self.sent = 0
        self.held: bytes | None = None  # a frame held back to be sent after the next (reordering)


class LocalFeed:
    """The WebSocket side of the local exchange."""

    def __init__(
        self,
        exchange: Exchange,
        keys: dict[str, RSAPublicKey],
        *,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.exchange = exchange
        self.keys = keys  # Kalshi key id → public key; the key id names the member
        self.faults = faults or Faults()
        self._clock = clock
        self._clients: list[_Client] = []
        self._sids = itertools.count(1)
        self.handshakes_refused = 0

    # Serving ----------------------------------------------------------------------------------

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> Server:
        return await serve(self._handle, host, port, process_request=self._check_handshake)

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != WS_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, f"the WebSocket is at {WS_PATH}\n")
        headers = {name.upper(): value for name, value in request.headers.raw_items()}
        if authenticated_member(self.keys, headers, "GET", request.path, now_ms=self._clock() * 1000) is None:
            self.handshakes_refused += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "authentication failed\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        member = connection.request.headers.get(KEY_HEADER, "") if connection.request else ""
        client = _Client(connection, member)
        self._clients.append(client)
        try:
            async for raw in connection:
                await self._command(client, raw)
        finally:
            self._clients.remove(client)

    async def _command(self, client: _Client, raw: str | bytes) -> None:
        try:
            command = orjson.loads(raw)
            command_id, cmd, params = command.get("id"), command.get("cmd"), command.get("params") or {}
        except (orjson.JSONDecodeError, AttributeError):
            await self._reply(client, {"type": "error", "msg": {"code": 1, "msg": "Unable to process message"}})
            return
        if cmd == "subscribe":
            await self._subscribe(client, command_id, params)
        elif cmd == "update_subscription":
            await self._update(client, command_id, params)
        elif cmd == "unsubscribe":
            for sid in params.get("sids", []):
                gone = client.subscriptions.pop(sid, None)
                if gone is not None:
                    ended = {"id": command_id, "sid": sid, "seq": gone.seq + 1, "type": "unsubscribed"}
                    await self._reply(client, ended)
        else:
            await self._reply(client, {"id": command_id, "type": "error", "msg": {"code": 5, "msg": "Unknown command"}})

    async def _subscribe(self, client: _Client, command_id: Any, params: dict[str, Any]) -> None:
        for channel in params.get("channels", []):
            sid = next(self._sids)
            tickers = set(params.get("market_tickers", []))
            subscription = _Subscription(sid, channel, tickers, client.member)
            client.subscriptions[sid] = subscription
            await self._reply(client, {"id": command_id, "type": "subscribed", "msg": {"channel": channel, "sid": sid}})
            if channel == "orderbook_delta":
                for ticker in sorted(tickers):
                    await self._snapshot(client, subscription, ticker)

    async def _update(self, client: _Client, command_id: Any, params: dict[str, Any]) -> None:
        sids, tickers, action = params.get("sids", []), params.get("market_tickers", []), params.get("action")
        subscription = client.subscriptions.get(sids[0]) if len(sids) == 1 else None
        if subscription is None:
            await self._reply(client, {"id": command_id, "type": "error", "msg": {"code": 7, "msg": "Unknown sid"}})
            return
        if action == "add_markets":
            subscription.tickers.update(tickers)
        elif action == "delete_markets":
            subscription.tickers.difference_update(tickers)
        elif action != "get_snapshot":
            await self._reply(client, {"id": command_id, "type": "error", "msg": {"code": 13, "msg": "Unsupported"}})
            return
        await self._reply(client, {"id": command_id, "type": "ok", "sid": subscription.sid, "msg": {}})
        if subscription.channel == "orderbook_delta" and action in ("add_markets", "get_snapshot"):
            for ticker in tickers:
                await self._snapshot(client, subscription, ticker)

    # Orders and what they publish ----------------------------------------------------------

    async def place(self, order: NewOrder, *, at: datetime) -> Placed:
        """Place an order on the exchange and send every subscriber what it changed."""
        placed = self.exchange.place(order, at=at)
        await self.publish(order.ticker, placed.changes, placed.executions, at=at)
        await self.publish_cancels(placed.group_cancels, at=at)
        return placed

    async def publish_cancels(self, changes: Iterable[tuple[str, LevelChange]], *, at: datetime) -> None:
        """Send the book changes of orders canceled in several markets at once ((ticker, change) pairs)."""
        for ticker, change in changes:
            await self.publish(ticker, [change], [], at=at)

    async def publish(
        self, ticker: str, changes: Iterable[LevelChange], executions: Iterable[Execution], *, at: datetime
    ) -> None:
        changes, executions = list(changes), list(executions)
        for client in list(self._clients):
            for subscription in list(client.subscriptions.values()):
                if subscription.channel == "orderbook_delta" and ticker in subscription.tickers:
                    for change in changes:
                        if self.faults.roll(self.faults.stale_rate, "stale"):
                            continue  # never sent, and no seq skipped: the client's book silently drifts
                        await self._data(client, subscription, "orderbook_delta", _delta(ticker, change))
                elif subscription.channel == "trade" and ticker in subscription.tickers:
                    for execution in executions:
                        await self._data(client, subscription, "trade", _trade(execution, at))
                elif subscription.channel == "fill":
                    for execution in executions:
                        if client.member in (execution.taker_member, execution.maker_member):
                            key = (execution.trade_id, client.member)
                            fee = self.exchange.fill_fees.get(key, Decimal(0))
                            held = self.exchange.fill_positions.get(key, Decimal(0))
                            fill = _fill(execution, client.member, fee, held, at)
                            await self._data(client, subscription, "fill", fill)

    # Frames -----------------------------------------------------------------------------------

    async def _snapshot(self, client: _Client, subscription: _Subscription, ticker: str) -> None:
        market = self.exchange.markets.get(ticker)
        if market is None:
            return
        book = market.book
        msg = {
            "market_ticker": ticker,
            "market_id": market_id(ticker),
            "yes_dollars_fp": [[fixed_price(p), fixed_count(s)] for p, s in book.bids()],
            "no_dollars_fp": [[fixed_price(p), fixed_count(s)] for p, s in book.no_bids()],
        }
        await self._data(client, subscription, "orderbook_snapshot", msg)

    async def _data(self, client: _Client, subscription: _Subscription, kind: str, msg: dict[str, Any]) -> None:
        subscription.seq += 1
        if kind != "orderbook_snapshot" and self.faults.roll(self.faults.gap_rate, "gap"):
            subscription.seq += 1  # the frame of this seq is never sent: a gap
        frame = {"type": kind, "sid": subscription.sid, "seq": subscription.seq, "msg": msg}
        if kind == "fill":
            del frame["seq"]  # Kalshi's fill frames carry no seq
        data = orjson.dumps(frame)
        await self._send(client, data)
        if self.faults.roll(self.faults.duplicate_rate, "duplicate"):
            await self._send(client, data)

    async def _send(self, client: _Client, data: bytes) -> None:
        if self.faults.roll(self.faults.reorder_rate, "reorder", applies=client.held is None):
            client.held = data  # goes out after the next frame
            return
        try:
            await client.connection.send(data)
            if client.held is not None:
                held, client.held = client.held, None
                await client.connection.send(held)
        except Exception:  # the client went away; its handler removes it
            return
        client.sent += 1
        if self.faults.drop_after is not None and client.sent >= self.faults.drop_after:
            client.sent = 0
            self.faults.count("drop")
            await client.connection.close()

    async def _reply(self, client: _Client, frame: dict[str, Any]) -> None:
        await client.connection.send(orjson.dumps(frame))

    async def drop_connections(self) -> None:
        """Close every connection, as the exchange sometimes does."""
        await asyncio.gather(*(client.connection.close() for client in list(self._clients)))


def _delta(ticker: str, change: LevelChange) -> dict[str, Any]:
    return {
        "market_ticker": ticker,
        "market_id": market_id(ticker),
        "price_dollars": fixed_price(change.price),
        "delta_fp": fixed_count(change.delta),
        "side": change.book,
    }


def _trade(execution: Execution, at: datetime) -> dict[str, Any]:
    taker_yes = execution.taker_side.value == "bid"
    ms = int(at.timestamp() * 1000)
    return {
        "trade_id": execution.trade_id,
        "market_ticker": execution.ticker,
        "yes_price_dollars": fixed_price(execution.price),
        "no_price_dollars": fixed_price(Decimal(1) - execution.price),
        "count_fp": fixed_count(execution.count),
        "taker_side": "yes" if taker_yes else "no",
        "taker_outcome_side": "yes" if taker_yes else "no",
        "taker_book_side": execution.taker_side.value,
        "is_block_trade": False,
        "ts": ms // 1000,
        "ts_ms": ms,
    }


def _fill(execution: Execution, member: str, fee: Decimal, held: Decimal, at: datetime) -> dict[str, Any]:
    taker = member == execution.taker_member
    side = execution.taker_side.value if taker else ("ask" if execution.taker_side.value == "bid" else "bid")
    ms = int(at.timestamp() * 1000)
    outcome = "yes" if side == "bid" else "no"
    return {
        "trade_id": execution.trade_id,
        "order_id": execution.taker_order_id if taker else execution.maker_order_id,
        "market_ticker": execution.ticker,
        "exchange_index": 0,
        "is_taker": taker,
        "yes_price_dollars": fixed_price(execution.price),
        "count_fp": fixed_count(execution.count),
        "fee_cost": fixed_price(fee),
        "book_side": side,
        "outcome_side": outcome,
        # The legacy fields, as Kalshi still sends them: the outcome side bought.
        "side": outcome,
        "purchased_side": outcome,
        "action": "buy",
        "post_position_fp": fixed_count(held),
        "ts": ms // 1000,
        "ts_ms": ms,
    }


def market_id(ticker: str) -> str:
    """A market's id: a UUID, as Kalshi's are, the same for a ticker on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kalshiweb-local-exchange:{ticker}"))
