"""The bot's link to the exchange: sync and async Kalshi REST clients.

Both execute the request descriptions of :mod:`markets.endpoints`:
``fetch(query)`` for GETs (rate limited, retried with backoff on 5xx, 429
and connection failures), ``submit(command)`` for mutations (rate limited,
never retried) and ``pages(paged)`` / ``iterate(paged)`` to stream lists.
The sync client adds one method per endpoint (:class:`~markets.client_api.ExchangeApi`).

DRY mode, the product's first safety rule: ``submit`` returns a
:class:`~markets.calls.DryRunResult` and sends nothing, and a request hook
refuses any non-GET request that gets to the HTTP layer anyway. A mutation
that may have reached Kalshi without an answer raises
:class:`~markets.errors.OutcomeUnknown`.

Pure module with no Django imports; :mod:`markets.connection` builds a
client from settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Self, TypeVar

import httpx
import tenacity

from markets import endpoints
from markets.calls import Command, DryRunResult, Page, Paged, Query
from markets.client_api import ExchangeApi, mutating
from markets.ratelimit import Limits, RateLimiter
from markets.schemas import AccountLimits
from markets.transport import (
    ClientConfig,
    CursorWalk,
    RetryPolicy,
    Timeouts,
    build_request,
    dry_run,
    full_path,
    log_request,
    read_response,
    require_signer,
    retry_options,
    transport_failure,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = [
    "AsyncKalshiClient",
    "ClientConfig",
    "DryRunResult",
    "DryRunViolation",
    "KalshiClient",
    "RetryPolicy",
    "Timeouts",
]


class DryRunViolation(RuntimeError):
    """A mutating request reached the HTTP layer in DRY mode. Always a bug; it is never sent."""


def _guard(config: ClientConfig, request: httpx.Request) -> None:
    if not config.sends_mutations and request.method != "GET":
        raise DryRunViolation(f"DRY mode: refusing to send {request.method} {request.url.path}")


def _apply_limits(limiter: RateLimiter, account: AccountLimits) -> AccountLimits:
    limiter.configure(Limits(read_per_second=account.read_limit, write_per_second=account.write_limit))
    logger.info(
        "Kalshi API tier %s: %s reads/s, %s writes/s", account.usage_tier, account.read_limit, account.write_limit
    )
    return account


class KalshiClient(ExchangeApi):
    """A synchronous client on ``httpx.Client``; use it as a context manager or call ``close()``."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=config.base_url,
            transport=transport,
            timeout=config.timeouts.for_httpx(),
            headers={"User-Agent": config.user_agent, "Accept": "application/json"},
            event_hooks={"request": [lambda request: _guard(config, request)]},
        )

    def __repr__(self) -> str:
        return f"<KalshiClient {self.config.mode} {self.config.base_url} signer={self.config.signer!r}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch(self, query: Query[T]) -> T:
        """Send a GET, retrying transient failures, and parse the answer."""
        retrying = tenacity.Retrying(sleep=self._sleep, **retry_options(self.config.retry))
        result: T = retrying(self._send, query)
        return result

    @mutating
    def submit(self, command: Command[T]) -> T | DryRunResult:
        """Send a mutation once (never retried); in DRY mode, only describe it."""
        if not self.config.sends_mutations:
            return dry_run(self.config, command)
        return self._send(command)

    def pages(self, paged: Paged[T], *, page_size: int | None = None) -> Iterator[Page[T]]:
        """Stream the pages of a list, following cursors until the last page."""
        walk = CursorWalk(
            paged,
            page_size=self.config.page_size if page_size is None else page_size,
            path=full_path(self.config, paged.query),
        )
        while not walk.done:
            page = self.fetch(walk.query())
            walk.advance(page)
            yield page

    def iterate(self, paged: Paged[T], *, page_size: int | None = None) -> Iterator[T]:
        """Stream the items of a list, fetching pages as they are needed."""
        for page in self.pages(paged, page_size=page_size):
            yield from page.items

    def refresh_rate_limits(self) -> AccountLimits:
        """Read the account's tier from GET /account/limits and resize the rate limiter to it."""
        return _apply_limits(self.limiter, self.fetch(endpoints.account_limits()))

    def _send(self, call: Query[T] | Command[T]) -> T:
        require_signer(self.config, call)
        self.limiter.acquire(call.kind, call.cost)
        request = build_request(self._http, self.config, call)
        log_request(self.config, call)
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.config, call) from exc
        return read_response(response, self.config, call, now=self._clock())


class AsyncKalshiClient:
    """An asynchronous client on ``httpx.AsyncClient``: the generic calls only, for long-lived feeds.

    Run any endpoint of :mod:`markets.endpoints` through it:
    ``await client.fetch(endpoints.market(ticker))``,
    ``async for market in client.iterate(endpoints.markets(status=...))``.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.limiter = limiter or RateLimiter()
        self._sleep = sleep
        self._clock = clock

        async def guard(request: httpx.Request) -> None:
            _guard(config, request)

        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            transport=transport,
            timeout=config.timeouts.for_httpx(),
            headers={"User-Agent": config.user_agent, "Accept": "application/json"},
            event_hooks={"request": [guard]},
        )

    def __repr__(self) -> str:
        return f"<AsyncKalshiClient {self.config.mode} {self.config.base_url} signer={self.config.signer!r}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch(self, query: Query[T]) -> T:
        retrying = tenacity.AsyncRetrying(sleep=self._sleep, **retry_options(self.config.retry))
        result: T = await retrying(self._send, query)
        return result

    @mutating
    async def submit(self, command: Command[T]) -> T | DryRunResult:
        if not self.config.sends_mutations:
            return dry_run(self.config, command)
        return await self._send(command)

    async def pages(self, paged: Paged[T], *, page_size: int | None = None) -> AsyncIterator[Page[T]]:
        walk = CursorWalk(
            paged,
            page_size=self.config.page_size if page_size is None else page_size,
            path=full_path(self.config, paged.query),
        )
        while not walk.done:
            page = await self.fetch(walk.query())
            walk.advance(page)
            yield page

    async def iterate(self, paged: Paged[T], *, page_size: int | None = None) -> AsyncIterator[T]:
        async for page in self.pages(paged, page_size=page_size):
            for item in page.items:
                yield item

    async def refresh_rate_limits(self) -> AccountLimits:
        return _apply_limits(self.limiter, await self.fetch(endpoints.account_limits()))

    async def _send(self, call: Query[T] | Command[T]) -> T:
        require_signer(self.config, call)
        wait = self.limiter.reserve(call.kind, call.cost)
        if wait > 0:
            await self._sleep(wait)
        request = build_request(self._http, self.config, call)
        log_request(self.config, call)
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.config, call) from exc
        return read_response(response, self.config, call, now=self._clock())
