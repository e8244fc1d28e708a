"""The local exchange's REST side: the V2 order endpoints and the reads the bot makes, as Kalshi shapes them.

A plain ASGI application (served by uvicorn) over the same Exchange and
LocalFeed as the WebSocket, so an order placed here is matched, charged and
published to subscribers at once. Every request is authenticated as Kalshi
does it (RSA-PSS over timestamp, method and path, the key id naming the
member). The retired V1 order path answers 410 ``deprecated_v1_order_endpoint``
as Kalshi does. Errors use Kalshi's ErrorResponse shape.

Paths (under /trade-api/v2):

- POST   /portfolio/events/orders                      create (V2); a client_order_id the member
                                                       used before answers 409 ``order_already_exists``
- DELETE /portfolio/events/orders                      cancel all the member's resting orders (204)
- DELETE /portfolio/events/orders/batched              cancel several (V2)
- DELETE /portfolio/events/orders/{order_id}           cancel (V2)
- POST   /portfolio/events/orders/{order_id}/decrease  decrease (V2)
- GET    /portfolio/orders/{order_id}                  read an order
- GET    /portfolio/balance
- GET    /markets/{ticker}/orderbook
- the account lists, the historical ones and order groups: see localexchange.rest_portfolio
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson

from localexchange.auth import authenticated_member
from localexchange.matching import ZERO, NewOrder, OrderRefused
from localexchange.rest_portfolio import PortfolioRoutes, order_json, public_paths
from localexchange.rest_portfolio import Refused as _Refused
from localexchange.ws import LocalFeed
from markets.schemas.enums import BookSide, SelfTradePrevention, TimeInForce
from markets.schemas.orders import fixed_count, fixed_price

BASE = "/trade-api/v2"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Reply = tuple[int, dict[str, Any]]


_CREATE_STATUS = {"order_already_exists": 409, "market_not_found": 404, "order_group_not_found": 404}


class RestApp:
    """The ASGI application."""

    def __init__(self, feed: LocalFeed, *, clock: Callable[[], float] = time.time) -> None:
        self.feed = feed
        self._clock = clock
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Awaitable[Reply]]]] = [
            ("POST", re.compile(r"/portfolio/events/orders"), self._create),
            ("DELETE", re.compile(r"/portfolio/events/orders"), self._cancel_all),
            ("DELETE", re.compile(r"/portfolio/events/orders/batched"), self._batch_cancel),
            ("DELETE", re.compile(r"/portfolio/events/orders/(?P<order_id>[^/]+)"), self._cancel),
            ("POST", re.compile(r"/portfolio/events/orders/(?P<order_id>[^/]+)/decrease"), self._decrease),
            ("GET", re.compile(r"/portfolio/orders/(?P<order_id>[^/]+)"), self._order),
            ("GET", re.compile(r"/portfolio/balance"), self._balance),
            ("GET", re.compile(r"/markets/(?P<ticker>[^/]+)/orderbook"), self._orderbook),
        ]
        portfolio = PortfolioRoutes(feed, clock)
        self._routes += [(verb, re.compile(pattern), handler) for verb, pattern, handler in portfolio.routes]
        self._public = set(public_paths())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        faults = self.feed.faults
        if faults.latency > 0:
            faults.count("latency")
            await asyncio.sleep(faults.rng.uniform(0, faults.latency))
        extra: list[tuple[bytes, bytes]] = []
        try:
            if faults.roll(faults.rate_limit_rate, "429"):
                extra.append((b"retry-after", b"1"))
                raise _Refused(429, "too_many_requests", "rate limit exceeded (an injected fault)")
            if faults.roll(faults.server_error_rate, "503"):
                raise _Refused(503, "service_unavailable", "the exchange is unavailable (an injected fault)")
            status, payload = await self._dispatch(scope, body)
            if status == 201 and faults.roll(faults.hang_rate, "hang"):
                await asyncio.sleep(faults.hang_seconds)  # accepted, but the answer comes too late
        except _Refused as refused:
            status, payload = refused.status, {"code": refused.code, "message": refused.message}
        data = orjson.dumps(payload) if status != 204 else b""
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _dispatch(self, scope: Scope, body: bytes) -> Reply:
        method, path = scope["method"], scope["path"]
        if not path.startswith(BASE):
            raise _Refused(404, "not_found", f"no such path {path}")
        route = path[len(BASE) :]
        member = "" if route in self._public else self._authenticate(scope, method, path)
        if route.rstrip("/") == "/portfolio/orders" and method == "POST":
            raise _Refused(410, "deprecated_v1_order_endpoint", "use POST /portfolio/events/orders")
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(route)
            if match and verb == method:
                if method == "GET":  # a GET's arguments are its query parameters
                    args: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode()))
                else:
                    args = _json(body) if body else {}
                return await handler(member, args, **match.groupdict())
        raise _Refused(404, "not_found", f"no {method} {path}")

    def _authenticate(self, scope: Scope, method: str, path: str) -> str:
        headers: dict[str, str] = {k.decode().upper(): v.decode() for k, v in scope.get("headers", [])}
        member = authenticated_member(self.feed.keys, headers, method, path, now_ms=self._clock() * 1000)
        if member is None:
            raise _Refused(401, "authentication_error", "the request's signature does not verify")
        return member

    # Handlers ---------------------------------------------------------------------------------

    async def _create(self, member: str, body: dict[str, Any]) -> Reply:
        order = NewOrder(
            member=member,
            ticker=_text(body, "ticker"),
            side=_enum(body, "side", BookSide),
            price=_decimal(body, "price"),
            count=_decimal(body, "count"),
            time_in_force=_enum(body, "time_in_force", TimeInForce),
            self_trade_prevention=_enum(body, "self_trade_prevention_type", SelfTradePrevention),
            post_only=bool(body.get("post_only", False)),
            client_order_id=str(body.get("client_order_id") or ""),
            order_group_id=str(body["order_group_id"]) if body.get("order_group_id") else None,
        )
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        try:
            placed = await self.feed.place(order, at=now)
        except OrderRefused as refused:
            raise _Refused(_CREATE_STATUS.get(refused.code, 400), refused.code, str(refused)) from None
        filled = placed.filled
        reply: dict[str, Any] = {
            "order_id": placed.order_id,
            "client_order_id": order.client_order_id,
            "fill_count": fixed_count(filled),
            "remaining_count": fixed_count(placed.resting),
            "ts_ms": int(self._clock() * 1000),
        }
        if filled:
            cost = sum((e.price * e.count for e in placed.executions), ZERO)
            fees = sum((self.feed.exchange.fill_fees.get((e.trade_id, member), ZERO) for e in placed.executions), ZERO)
            reply["average_fill_price"] = fixed_price(cost / filled)
            reply["average_fee_paid"] = fixed_price(fees / filled)
        return 201, reply

    async def _cancel(self, member: str, body: dict[str, Any], order_id: str) -> Reply:
        owner = self.feed.exchange.owner_of(order_id)
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        try:
            order, change = self.feed.exchange.cancel(member, order_id, at=now)
        except OrderRefused as refused:
            raise _Refused(404, refused.code, str(refused)) from None
        if owner is not None:
            await self.feed.publish(owner[1], [change], [], at=now)
        return 200, {
            "order_id": order_id,
            "client_order_id": order.client_order_id,
            "reduced_by": fixed_count(order.remaining),
            "ts_ms": int(self._clock() * 1000),
        }

    async def _decrease(self, member: str, body: dict[str, Any], order_id: str) -> Reply:
        owner = self.feed.exchange.owner_of(order_id)
        if owner is None or owner[0] != member:
            raise _Refused(404, "order_not_found", f"{member} has no resting order {order_id}")
        book = self.feed.exchange.markets[owner[1]].book
        resting = book.orders[order_id].remaining
        if body.get("reduce_by") is not None:
            by = _decimal(body, "reduce_by")
        elif body.get("reduce_to") is not None:
            by = resting - _decimal(body, "reduce_to")
        else:
            raise _Refused(400, "invalid_parameters", "give reduce_by or reduce_to")
        if by <= 0:
            raise _Refused(400, "invalid_parameters", f"the order rests {resting}; nothing to decrease")
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        try:
            _, change = self.feed.exchange.decrease(member, order_id, by=by, at=now)
        except OrderRefused as refused:
            raise _Refused(400, refused.code, str(refused)) from None
        await self.feed.publish(owner[1], [change], [], at=now)
        record = self.feed.exchange.orders[order_id]
        return 200, {
            "order_id": order_id,
            "client_order_id": record.client_order_id,
            "remaining_count": fixed_count(record.remaining),
            "ts_ms": int(self._clock() * 1000),
        }

    async def _order(self, member: str, body: dict[str, Any], order_id: str) -> Reply:
        record = self.feed.exchange.orders.get(order_id)
        now = self._clock()
        if record is None or record.member != member:
            raise _Refused(404, "not_found", f"no order {order_id}")
        if now - record.created.timestamp() < self.feed.faults.unreadable_seconds:
            self.feed.faults.count("unreadable")
            raise _Refused(404, "not_found", f"no order {order_id} (not yet readable: an injected fault)")
        return 200, {"order": order_json(record)}

    async def _cancel_all(self, member: str, body: dict[str, Any]) -> Reply:
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        await self.feed.publish_cancels(self.feed.exchange.cancel_all(member, at=now), at=now)
        return 204, {}

    async def _batch_cancel(self, member: str, body: dict[str, Any]) -> Reply:
        items = body.get("orders")
        if not isinstance(items, list) or not items:
            raise _Refused(400, "invalid_parameters", "orders must be a non-empty list")
        answers = []
        for item in items:
            order_id = str(item.get("order_id", "")) if isinstance(item, dict) else ""
            try:
                _, reply = await self._cancel(member, {}, order_id)
            except _Refused as refused:
                error = {"code": refused.code, "message": refused.message}
                reply = {"order_id": order_id, "reduced_by": "0.00", "error": error}
            answers.append(reply)
        return 200, {"orders": answers}

    async def _balance(self, member: str, body: dict[str, Any]) -> Reply:
        balance = self.feed.exchange.member(member).balance
        return 200, {
            "balance": int(balance * 100),
            "balance_dollars": fixed_price(balance),
            "portfolio_value": 0,
            "updated_ts": int(self._clock()),
        }

    async def _orderbook(self, member: str, body: dict[str, Any], ticker: str) -> Reply:
        market = self.feed.exchange.markets.get(ticker)
        if market is None:
            raise _Refused(404, "market_not_found", f"no market {ticker}")
        book = market.book
        return 200, {
            "orderbook_fp": {
                "yes_dollars": [[fixed_price(p), fixed_count(s)] for p, s in book.bids()],
                "no_dollars": [[fixed_price(p), fixed_count(s)] for p, s in book.no_bids()],
            }
        }


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Refused(400, "invalid_json", f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Refused(400, "invalid_json", "the body must be a JSON object")
    return data


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _Refused(400, "invalid_parameters", f"{name} is required")
    return value


def _decimal(body: dict[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if not isinstance(value, str):
        raise _Refused(400, "invalid_parameters", f"{name} must be a fixed-point string, got {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise _Refused(400, "invalid_parameters", f"{name} {value!r} is not a number") from None


E = TypeVar("E", BookSide, TimeInForce, SelfTradePrevention)


def _enum(body: dict[str, Any], name: str, kind: type[E]) -> E:
    value = body.get(name)
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _Refused(400, "invalid_parameters", f"{name} must be one of {allowed}, got {value!r}") from None
