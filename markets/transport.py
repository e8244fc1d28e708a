"""What the sync and async Kalshi clients share: configuration, signing, errors, retries and paging.

Everything here is independent of whether the request is sent by
``httpx.Client`` or ``httpx.AsyncClient``, so both clients behave the same:
the same signature, the same error for the same answer, the same retry
decisions and the same cursor checks.

Pure module with no Django imports.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx
import tenacity

from kalshiweb.modes import KalshiEnvironment, TradingMode, resolve_kalshi_environment
from markets import units
from markets.calls import Command, DryRunResult, Page, Paged, Query
from markets.errors import (
    AuthError,
    BadResponse,
    ExchangeUnavailable,
    KalshiError,
    OutcomeUnknown,
    RateLimited,
    error_for_status,
)
from markets.signing import RequestSigner

logger = logging.getLogger(__name__)

T = TypeVar("T")
Call = Query[Any] | Command[Any]

NO_KEY_MESSAGE = "no Kalshi API key configured: set KALSHI_API_KEY_ID/KALSHI_PRIVATE_KEY_PATH or add one in the admin"
USER_AGENT = "kalshiweb/0.1"
_PROD_HOSTS = frozenset({"external-api.kalshi.com", "api.elections.kalshi.com", "trading-api.kalshi.com"})
_DEMO_HOSTS = frozenset({"external-api.demo.kalshi.co", "demo-api.kalshi.co"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Failures that happen before any byte of the request left: a mutating request is known not to have arrived.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; every request has all four, so nothing can hang a worker."""

    connect: float = 5.0
    read: float = 15.0
    write: float = 10.0
    pool: float = 5.0

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of GETs: exponential backoff with full jitter, or Kalshi's Retry-After when it sends one."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 20.0
    # A 429 asking for a longer wait than this is raised instead of slept through.
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to talk to Kalshi. Contradictory settings fail here, before any request."""

    base_url: str
    environment: KalshiEnvironment
    mode: TradingMode
    signer: RequestSigner | None = None
    page_size: int = 500
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        # Coerce plain strings ("DRY") so identity checks on the enums can never be fooled.
        object.__setattr__(self, "mode", TradingMode(self.mode))
        object.__setattr__(self, "environment", KalshiEnvironment(self.environment))
        resolve_kalshi_environment(self.mode, self.environment)  # DEMO must use demo, LIVE production
        url = urlsplit(self.base_url)
        host = url.hostname or ""
        if url.scheme != "https" and not (url.scheme == "http" and host in _LOOPBACK_HOSTS):
            raise ValueError(f"Kalshi base URL must be https (plain http only to a local simulator): {self.base_url}")
        if self.environment is KalshiEnvironment.DEMO and host in _PROD_HOSTS:
            raise ValueError(f"environment DEMO but {self.base_url} is Kalshi's production exchange")
        if self.environment is KalshiEnvironment.PROD and host in _DEMO_HOSTS:
            raise ValueError(f"environment PROD but {self.base_url} is Kalshi's demo exchange")
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {self.page_size}")

    @property
    def sends_mutations(self) -> bool:
        """Whether orders may leave this process: only in DEMO and LIVE, so anything else fails closed."""
        return self.mode in (TradingMode.DEMO, TradingMode.LIVE)

    @property
    def base_path(self) -> str:
        """The base URL's path, e.g. ``/trade-api/v2``: part of every signed path."""
        return urlsplit(self.base_url).path.rstrip("/")


def full_path(config: ClientConfig, call: Call) -> str:
    """The path as Kalshi sees it, without query string: for errors and logs."""
    return config.base_path + call.path


def require_signer(config: ClientConfig, call: Call) -> None:
    """Refuse an authenticated call without a key before anything is sent."""
    if call.auth and config.signer is None:
        raise AuthError(NO_KEY_MESSAGE, method=call.method, path=full_path(config, call))


def build_request(http: httpx.Client | httpx.AsyncClient, config: ClientConfig, call: Call) -> httpx.Request:
    """The HTTP request for ``call``, signed whenever a key is configured (harmless on public endpoints)."""
    require_signer(config, call)
    body = call.body if isinstance(call, Command) else None
    request = http.build_request(call.method, call.path, params=dict(call.params) or None, json=body)
    if config.signer is not None:
        # Sign exactly the path that goes on the wire (base path included, query excluded).
        signed_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        request.headers.update(config.signer.headers(call.method, signed_path))
    return request


def log_request(config: ClientConfig, call: Call) -> None:
    """DEBUG only, and never headers: bodies of authenticated requests stay out of INFO logs."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    body = call.body if isinstance(call, Command) else None
    logger.debug("%s %s params=%s body=%s", call.method, full_path(config, call), dict(call.params), body)


def dry_run(config: ClientConfig, command: Command[Any]) -> DryRunResult:
    """What DRY mode returns instead of sending ``command``; logged without secrets."""
    path = full_path(config, command)
    result = DryRunResult(
        method=command.method,
        path=path,
        body=command.body,
        client_order_id=command.client_order_id,
        message=f"DRY mode: {command.method} {path} was not sent to Kalshi",
    )
    logger.info("%s; body=%s", result.message, json.dumps(command.body, sort_keys=True, default=str))
    return result


def transport_failure(exc: httpx.TransportError, config: ClientConfig, call: Call) -> KalshiError:
    """A connection-level failure: unavailable for reads, unknown outcome once a mutation may have left."""
    method, path = call.method, full_path(config, call)
    summary = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(call, Query) or isinstance(exc, _NOT_SENT):
        return ExchangeUnavailable(summary, method=method, path=path)
    return OutcomeUnknown(
        f"{summary}; the request may have reached Kalshi",
        client_order_id=call.client_order_id,
        method=method,
        path=path,
    )


def read_response(response: httpx.Response, config: ClientConfig, call: Query[T] | Command[T], *, now: float) -> T:
    """The parsed body of a 2xx answer, or the error the status stands for."""
    method, path, status = call.method, full_path(config, call), response.status_code
    logger.debug("%s %s → HTTP %s", method, path, status)
    payload, is_json = _decode(response)
    if 200 <= status < 300:
        if not is_json:
            if isinstance(call, Command):
                # Accepted: the parser decides what a body it cannot read means (orders: details unknown).
                payload = response.text
            else:
                raise BadResponse("the answer is not JSON", method=method, path=path, status=status)
        return _parse(call, payload, method=method, path=path, status=status)
    if isinstance(call, Command) and status >= 500:
        # A 5xx may come from a gateway after the exchange acted: the order may exist.
        summary = "exchange error answering a mutating request; it may have taken effect"
        raise OutcomeUnknown(summary, client_order_id=call.client_order_id, method=method, path=path, status=status)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
    raise error_for_status(status, payload, method=method, path=path, retry_after=retry_after)


def _decode(response: httpx.Response) -> tuple[Any, bool]:
    """(payload, is_json): an empty body is a JSON null, so EmptyResponse answers parse."""
    if not response.content.strip():
        return None, True
    try:
        return response.json(), True
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, False


def _parse(call: Query[T] | Command[T], payload: Any, *, method: str, path: str, status: int) -> T:
    try:
        return call.parse(payload)
    except BadResponse as exc:
        raise BadResponse(exc.summary, method=method, path=path, status=status) from None
    except units.UnitError as exc:
        raise BadResponse(str(exc), method=method, path=path, status=status) from None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date (RFC 9110); None if absent or garbled."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class _Backoff(tenacity.wait.wait_base):
    """Retry-After when Kalshi sent one, else exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._jitter = tenacity.wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._jitter(retry_state))


def _retryable(policy: RetryPolicy) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if isinstance(exc, RateLimited):
            return exc.retry_after is None or exc.retry_after <= policy.max_retry_after
        return isinstance(exc, ExchangeUnavailable)

    return check


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    logger.warning("%s; retrying in %.2f s (attempt %d failed)", exc, wait, retry_state.attempt_number)


def retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """tenacity arguments for GETs: only transient failures, at most ``policy.attempts`` tries."""
    return {
        "stop": tenacity.stop_after_attempt(policy.attempts),
        "wait": _Backoff(policy),
        "retry": tenacity.retry_if_exception(_retryable(policy)),
        "before_sleep": _log_retry,
        "reraise": True,
    }


class CursorWalk(Generic[T]):
    """The pages of one list, with the page size clamped and cursor loops refused."""

    def __init__(self, paged: Paged[T], *, page_size: int, path: str) -> None:
        self._paged = paged
        self._limit = paged.clamp(page_size)
        self._path = path
        self._cursor = ""
        self._seen: set[str] = set()
        self.done = False

    def query(self) -> Query[Page[T]]:
        return self._paged.page(limit=self._limit, cursor=self._cursor)

    def advance(self, page: Page[Any]) -> None:
        """Move to the page after ``page``; a cursor seen before would loop forever, so it is an error."""
        if not page.cursor:
            self.done = True
            return
        if page.cursor in self._seen:
            raise BadResponse(
                f"pagination loop: cursor {page.cursor!r} was returned before", method="GET", path=self._path
            )
        self._seen.add(page.cursor)
        self._cursor = page.cursor
