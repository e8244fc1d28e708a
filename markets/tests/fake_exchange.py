"""A fake Kalshi at the one seam the clients have: the httpx transport.

Tests build a client on :class:`FakeExchange`, which answers per method and
path with payloads the tests write, and records every request it receives.
Like Kalshi, it answers the retired V1 order mutations (``POST
/portfolio/orders``, ``DELETE /portfolio/orders/...``) with 410
``deprecated_v1_order_endpoint``; :meth:`FakeExchange.trading` installs
answers for the V2 order family under ``/portfolio/events/orders``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from kalshiweb.modes import KalshiEnvironment, TradingMode
from markets.client import AsyncKalshiClient, ClientConfig, KalshiClient, RetryPolicy
from markets.ratelimit import Limits, RateLimiter
from markets.signing import SIGNATURE_HEADER

PROD_URL = "https://external-api.kalshi.com/trade-api/v2"
DEMO_URL = "https://external-api.demo.kalshi.co/trade-api/v2"
NOW = 1772463600.0  # 2026-03-02T15:00:00Z
KEY_ID = "0f0e0d0c-1111-4222-8333-444455556666"
API = "/trade-api/v2"
V1_ORDER_PATH = re.compile(r"^/trade-api/v2/portfolio/orders(/.*)?$")
V2_ORDER_PATH = re.compile(r"^/trade-api/v2/portfolio/events/orders/(?P<order_id>[^/]+)(?P<action>/amend|/decrease)?$")
TS_MS = 1772463600123


def v1_gone() -> httpx.Response:
    """What Kalshi answers to every V1 order mutation since mid-2026."""
    return error(410, "deprecated_v1_order_endpoint", "V1 order endpoints are retired; use /portfolio/events/orders")


class FakeExchange:
    """Kalshi at the HTTP seam: answers per (method, path), records every request it receives."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[object]] = {}
        self.patterns: list[tuple[re.Pattern[str], Callable[[httpx.Request], httpx.Response]]] = []
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: object) -> FakeExchange:
        """Answers are served in order, the last one repeatedly.

        An answer is a dict (200 JSON), a Response, an exception to raise, or a function of the request.
        """
        self.routes[(method, "/trade-api/v2" + path)] = list(answers)
        return self

    def trading(self) -> FakeExchange:
        """Answer the V2 order family as Kalshi does: create rests the whole count, cancel reduces it all.

        Create and amend answer 201/200 with an ack echoing the client_order_id;
        cancel, decrease, the two batches and cancel-all answer as the 3.31.0 spec shows.
        """
        self.on("POST", "/portfolio/events/orders", _v2_create)
        self.on("DELETE", "/portfolio/events/orders", httpx.Response(204))
        self.on("POST", "/portfolio/events/orders/batched", _v2_batch_create)
        self.on("DELETE", "/portfolio/events/orders/batched", _v2_batch_cancel)
        self.patterns.append((V2_ORDER_PATH, _v2_one_order))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.routes:
            if request.method != "GET" and V1_ORDER_PATH.match(request.url.path):
                return v1_gone()
            for pattern, respond in self.patterns:
                if pattern.match(request.url.path):
                    return respond(request)
            pytest.fail(f"unexpected request {request.method} {request.url}")
        answers = self.routes[key]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def params(self, index: int = -1) -> dict[str, list[str]]:
        url = self.requests[index].url
        return {key: url.params.get_list(key) for key in url.params}


def _body(request: httpx.Request) -> dict:
    return json.loads(request.content) if request.content else {}


def _ack(order: dict, order_id: str) -> dict:
    return {
        "order_id": order_id,
        "client_order_id": order.get("client_order_id", ""),
        "fill_count": "0.00",
        "remaining_count": order["count"],
        "ts_ms": TS_MS,
    }


def _v2_create(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json=_ack(_body(request), "ord-1"))


def _v2_batch_create(request: httpx.Request) -> httpx.Response:
    orders = _body(request)["orders"]
    return httpx.Response(201, json={"orders": [_ack(o, f"ord-{n}") for n, o in enumerate(orders, 1)]})


def _v2_batch_cancel(request: httpx.Request) -> httpx.Response:
    items = [{"order_id": o["order_id"], "reduced_by": "10.00", "ts_ms": TS_MS} for o in _body(request)["orders"]]
    return httpx.Response(200, json={"orders": items})


def _v2_one_order(request: httpx.Request) -> httpx.Response:
    match = V2_ORDER_PATH.match(request.url.path)
    assert match is not None
    order_id, action = match["order_id"], match["action"]
    if request.method == "DELETE" and action is None:
        return httpx.Response(200, json={"order_id": order_id, "reduced_by": "10.00", "ts_ms": TS_MS})
    if request.method == "POST" and action == "/amend":
        body = _body(request)
        answer = {"order_id": order_id, "remaining_count": body["count"], "fill_count": "0.00", "ts_ms": TS_MS}
        return httpx.Response(200, json={**answer, "client_order_id": body.get("updated_client_order_id", "")})
    if request.method == "POST" and action == "/decrease":
        body = _body(request)
        remaining = body.get("reduce_to") or str((Decimal(10) - Decimal(body["reduce_by"])).quantize(Decimal("0.01")))
        return httpx.Response(200, json={"order_id": order_id, "remaining_count": remaining, "ts_ms": TS_MS})
    pytest.fail(f"unexpected request {request.method} {request.url}")


class Recorder:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class RecordingClient(KalshiClient):
    recorder: Recorder


class RecordingAsyncClient(AsyncKalshiClient):
    slept: list[float]


def make_client(exchange, *, mode=TradingMode.LIVE, signer=None, page_size=500, retry=None, limiter=None):
    url, env = (DEMO_URL, KalshiEnvironment.DEMO) if mode is TradingMode.DEMO else (PROD_URL, KalshiEnvironment.PROD)
    config = ClientConfig(
        base_url=url, environment=env, mode=mode, signer=signer, page_size=page_size, retry=retry or RetryPolicy()
    )
    recorder = Recorder()
    limiter = limiter or RateLimiter(Limits(1000, 1000), sleep=recorder.sleep)
    client = RecordingClient(
        config, transport=httpx.MockTransport(exchange), limiter=limiter, sleep=recorder.sleep, clock=lambda: NOW
    )
    client.recorder = recorder
    return client


def error(status: int, code: str = "some_code", message: str = "something", headers=None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message, "service": "exchange"}}, headers=headers
    )


def verify_signature(public_key, headers, message: bytes) -> None:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    public_key.verify(base64.b64decode(headers[SIGNATURE_HEADER]), message, pss, hashes.SHA256())


class GetOnly(FakeExchange):
    """Answers every GET with {} and fails the test on anything else."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "GET":
            pytest.fail(f"DRY mode sent {request.method} {request.url}")
        return httpx.Response(200, json={})


def make_async_client(exchange, *, mode=TradingMode.LIVE, signer=None):
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    config = ClientConfig(base_url=PROD_URL, environment=KalshiEnvironment.PROD, mode=mode, signer=signer, page_size=1)
    client = RecordingAsyncClient(config, transport=httpx.MockTransport(exchange), sleep=sleep, clock=lambda: NOW)
    client.slept = slept
    return client


def paginated(key: str, items: list[dict], *, per_page: int, match_on: tuple[str, ...] = ()):
    """An answer serving ``items`` under ``key`` in pages of ``per_page``, with cursors.

    For each query parameter named in ``match_on`` that a request sends, only the
    items whose field of that name equals it are served (e.g. ``("ticker",)`` for
    GET /markets/trades?ticker=...). Use it with ``FakeExchange.on`` as one answer.
    """

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        chosen = [i for i in items if all(i.get(n) == params[n] for n in match_on if n in params)]
        start = int(params.get("cursor") or 0)
        end = start + per_page
        cursor = f"{end}" if end < len(chosen) else ""
        return httpx.Response(200, json={key: chosen[start:end], "cursor": cursor})

    return answer


def serve_configured_client(monkeypatch: pytest.MonkeyPatch, exchange: FakeExchange) -> None:
    """Make ``markets.connection.kalshi_client()`` (what tasks and commands call) talk to ``exchange``.

    The client keeps its settings-made configuration (key, mode, page size);
    only the transport is the fake, and retries do not sleep.
    """
    from markets import connection

    def factory(**kwargs: object) -> KalshiClient:
        config = connection.client_config()
        return KalshiClient(config, transport=httpx.MockTransport(exchange), sleep=lambda seconds: None)

    monkeypatch.setattr(connection, "kalshi_client", factory)
