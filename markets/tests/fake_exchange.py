"""A fake Kalshi at the one seam the clients have: the httpx transport.

Tests build a client on :class:`FakeExchange`, which answers per method and
path with payloads the tests write, and records every request it receives.
"""

from __future__ import annotations

import base64

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


class FakeExchange:
    """Kalshi at the HTTP seam: answers per (method, path), records every request it receives."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[object]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: object) -> FakeExchange:
        """Answers are served in order, the last one repeatedly.

        An answer is a dict (200 JSON), a Response, an exception to raise, or a function of the request.
        """
        self.routes[(method, "/trade-api/v2" + path)] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.routes:
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
