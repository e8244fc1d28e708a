"""The Kalshi client as configured in settings: the one place that wires Django to markets.client.

``kalshi_client()`` reads the base URL, trading mode, environment and page
size from settings and the API key from :func:`markets.credentials.resolve_credentials`.
Without a key the client still reads public data; an authenticated call
then fails before sending, with a message saying how to add a key.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings

from markets.client import ClientConfig, KalshiClient
from markets.credentials import resolve_credentials
from markets.errors import AuthError, KalshiError
from markets.schemas import AccountLimits
from markets.signing import RequestSigner

logger = logging.getLogger(__name__)


def configured_signer() -> RequestSigner | None:
    """A signer for the configured environment's key, or None when there is none (CredentialError if unusable)."""
    credentials = resolve_credentials(settings.KALSHI_ENV)
    if credentials is None:
        return None
    logger.debug("Signing Kalshi requests with key %s from %s", credentials.fingerprint, credentials.source)
    return RequestSigner(credentials.key_id, credentials.private_key)


def client_config(*, signer: RequestSigner | None = None) -> ClientConfig:
    """The ClientConfig that settings describe; ``signer`` defaults to the configured key."""
    return ClientConfig(
        base_url=settings.KALSHI_BASE_URL,
        environment=settings.KALSHI_ENV,
        mode=settings.TRADING_MODE,
        signer=signer if signer is not None else configured_signer(),
        page_size=settings.REST_PAGE_SIZE,
    )


def kalshi_client(
    *, transport: httpx.BaseTransport | None = None, refresh_limits: bool = False, signer: RequestSigner | None = None
) -> KalshiClient:
    """A KalshiClient for the configured exchange and mode; the caller closes it (use ``with``).

    ``refresh_limits`` sizes the rate limiter from GET /account/limits when a
    key is configured (otherwise the Basic tier's limits apply).
    """
    client = KalshiClient(client_config(signer=signer), transport=transport)
    if refresh_limits:
        refresh_rate_limits(client)
    return client


def refresh_rate_limits(client: KalshiClient) -> AccountLimits | None:
    """Resize the client's rate limiter from the account's tier; None (and the defaults) when unsigned or failing."""
    if client.config.signer is None:
        return None
    try:
        return client.refresh_rate_limits()
    except AuthError:
        raise
    except KalshiError as exc:
        logger.warning("Could not read Kalshi API limits, keeping %s: %s", client.limiter.limits, exc)
        return None
