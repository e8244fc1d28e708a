"""HTTP plumbing shared by the weather adapters.

One client factory (timeouts always set, a transport tests can replace with
httpx.MockTransport), one JSON GET that turns every failure into a
SourceError subclass whose message says what and where, and a transport that
keeps query-string API keys out of everything httpx logs or raises.

No retries beyond httpx's own connection retry: the Celery task that calls a
source owns the retry policy.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence

import httpx

from weather.sources.base import BadPayloadError, SourceRequestError, SourceUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0
_REDACTED = "***"
_EXCERPT_CHARS = 200


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret replaced, for messages built from provider answers."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


class QueryKeyTransport(httpx.BaseTransport):
    """Adds ``name=value`` (an API key) to each request's query string, below the client.

    Visual Crossing (``key``) and Open-Meteo's commercial hosts (``apikey``)
    take the key in the URL. httpx logs every request URL at INFO and puts it
    in its exceptions and responses; adding the key here means the URL the
    client logs, raises with and hands back never contains it. Errors from the
    inner transport are re-raised with the key scrubbed.
    """

    def __init__(self, inner: httpx.BaseTransport, *, name: str, value: str) -> None:
        self._inner = inner
        self._name = name
        self._value = value

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        keyed = httpx.Request(
            request.method,
            request.url.copy_merge_params({self._name: self._value}),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        try:
            return self._inner.handle_request(keyed)
        except httpx.TransportError as exc:
            raise type(exc)(scrub(str(exc), [self._value]), request=request) from None

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return f"QueryKeyTransport(name={self._name!r}, value={_REDACTED!r})"


def make_client(
    *,
    transport: httpx.BaseTransport | None,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    query_key: tuple[str, str] | None = None,
) -> httpx.Client:
    """An httpx client with a timeout on every phase and, optionally, a query-string key.

    Keyed clients do not follow redirects: a redirect's Location would carry
    the key back up into the client, which logs it.
    """
    base = transport if transport is not None else httpx.HTTPTransport(retries=1)
    if query_key is not None:
        base = QueryKeyTransport(base, name=query_key[0], value=query_key[1])
    return httpx.Client(
        transport=base,
        timeout=httpx.Timeout(timeout),
        headers=dict(headers or {}),
        follow_redirects=query_key is None,
    )


def get_json(
    client: httpx.Client,
    url: str,
    *,
    where: str,
    params: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> object:
    """GET ``url`` and decode JSON, or raise a SourceError naming ``where`` and the URL.

    Timeouts, connection errors, 429 and 5xx raise SourceUnavailableError;
    other non-2xx raise SourceRequestError; a body that is not JSON raises
    BadPayloadError. Messages pass through :func:`scrub` with ``secrets``, and
    are raised ``from None`` so no chained httpx exception can carry a key.
    """
    shown = str(httpx.URL(url, params=dict(params or {})))
    try:
        response = client.get(url, params=params)
    except httpx.TimeoutException as exc:
        message = f"{where}: GET {shown} timed out ({type(exc).__name__})"
        raise SourceUnavailableError(scrub(message, secrets)) from None
    except httpx.HTTPError as exc:
        message = f"{where}: GET {shown} failed: {type(exc).__name__}: {exc}"
        raise SourceUnavailableError(scrub(message, secrets)) from None
    status = response.status_code
    if status == 429 or status >= 500:
        message = f"{where}: GET {shown} answered {status} {response.reason_phrase}: {_excerpt(response)}"
        raise SourceUnavailableError(scrub(message, secrets))
    if not 200 <= status < 300:
        message = f"{where}: GET {shown} answered {status} {response.reason_phrase}: {_excerpt(response)}"
        raise SourceRequestError(scrub(message, secrets))
    try:
        payload: object = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = f"{where}: GET {shown} answered {status} but the body is not JSON: {_excerpt(response)}"
        raise BadPayloadError(scrub(message, secrets)) from None
    logger.debug("%s: GET %s -> %s", where, scrub(shown, secrets), status)
    return payload


def _excerpt(response: httpx.Response) -> str:
    """A short, one-line summary of an error body: NWS problem details, Open-Meteo's reason, or text."""
    try:
        body: object = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("title", "detail", "reason", "message") if isinstance(body.get(k), str)]
        if parts:
            return _one_line(" - ".join(parts))
    return _one_line(response.text) or "(empty body)"


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"
