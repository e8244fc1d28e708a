"""What can go wrong talking to Kalshi, as exceptions a caller can act on.

Every error says which request failed (method and path, never headers,
signatures or the query string) and, when Kalshi answered with its
``ErrorResponse`` JSON (``{code, message, details?, service?}``), what
Kalshi said. The classes map onto what a caller does next: fix the request
(:class:`BadRequest`), fix the key (:class:`AuthError`), wait
(:class:`RateLimited`, :class:`ExchangeUnavailable`), or stop trading the
market until reconciliation (:class:`OutcomeUnknown`).

Pure module with no Django imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Kalshi's ErrorResponse: ``{code, message, details?, service?}``."""

    code: str = ""
    message: str = ""
    details: str = ""
    service: str = ""

    @classmethod
    def from_payload(cls, payload: object) -> ErrorInfo | None:
        """Read it flat or wrapped in ``{"error": {...}}`` (both are seen); None if absent."""
        if isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping):
            payload = payload["error"]
        if not isinstance(payload, Mapping):
            return None
        fields = {name: _text(payload.get(name)) for name in ("code", "message", "details", "service")}
        return cls(**fields) if any(fields.values()) else None

    def __str__(self) -> str:
        return ": ".join(part for part in (self.code, self.message) if part)


def _text(value: object) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


class KalshiError(Exception):
    """A failed Kalshi request, with Kalshi's own error code and message when it sent one."""

    def __init__(
        self,
        summary: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        info: ErrorInfo | None = None,
    ) -> None:
        self.summary = summary
        self.method = method
        self.path = path
        self.status = status
        self.info = info
        super().__init__(self._describe())

    @property
    def code(self) -> str:
        return self.info.code if self.info else ""

    @property
    def message(self) -> str:
        return self.info.message if self.info else ""

    def _describe(self) -> str:
        parts = []
        if self.method or self.path:
            parts.append(f"{self.method} {self.path}".strip() + ":")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(self.summary)
        if self.info and str(self.info):
            parts.append(f"(Kalshi says {self.info})")
        return " ".join(parts)


class AuthError(KalshiError):
    """401/403, or no key configured: the key is missing, wrong, for the other environment, or lacks a scope."""


class NotFound(KalshiError):
    """404: no such market, event, order or order group."""


class Conflict(KalshiError):
    """409: e.g. an order with this client_order_id exists already (so it was placed: reconcile)."""


class Gone(KalshiError):
    """410: the endpoint is retired (e.g. V1 orders: ``deprecated_v1_order_endpoint``); never retry it."""


class BadRequest(KalshiError):
    """400/422: Kalshi rejected the parameters; sending them again will not help."""


class RateLimited(KalshiError):
    """429: too many requests; ``retry_after`` is how many seconds Kalshi asked us to wait, if it said."""

    def __init__(
        self,
        summary: str,
        *,
        retry_after: float | None = None,
        method: str = "",
        path: str = "",
        status: int | None = 429,
        info: ErrorInfo | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(summary, method=method, path=path, status=status, info=info)


class ExchangeUnavailable(KalshiError):
    """5xx, a refused connection, or a timeout on a read: try again later."""


class BadResponse(KalshiError):
    """A response that is not JSON or does not fit our schema; the message names object and field."""


class OutcomeUnknown(KalshiError):
    """A mutating request that may or may not have taken effect.

    Raised when the connection failed or timed out after the request may have
    reached Kalshi, or Kalshi answered 5xx to it. Nothing may be assumed: the
    caller blocks the market (by ``client_order_id`` when known) until
    reconciliation against the exchange says what happened.
    """

    def __init__(
        self,
        summary: str,
        *,
        client_order_id: str | None = None,
        method: str = "",
        path: str = "",
        status: int | None = None,
        info: ErrorInfo | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        super().__init__(summary, method=method, path=path, status=status, info=info)


_BY_STATUS: dict[int, tuple[type[KalshiError], str]] = {
    400: (BadRequest, "bad request"),
    401: (AuthError, "Kalshi refused the credentials"),
    403: (AuthError, "the key is not allowed to do this"),
    404: (NotFound, "not found"),
    409: (Conflict, "conflict"),
    410: (Gone, "the endpoint is retired"),
    422: (BadRequest, "unprocessable request"),
}


def error_for_status(
    status: int,
    payload: object,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> KalshiError:
    """The error for a non-2xx answer to a read; ``payload`` is the decoded body, or None."""
    info = ErrorInfo.from_payload(payload)
    if status == 429:
        return RateLimited("rate limited", retry_after=retry_after, method=method, path=path, info=info)
    if status >= 500:
        return ExchangeUnavailable("exchange error", method=method, path=path, status=status, info=info)
    cls, summary = _BY_STATUS.get(status, (KalshiError, "unexpected status"))
    return cls(summary, method=method, path=path, status=status, info=info)
