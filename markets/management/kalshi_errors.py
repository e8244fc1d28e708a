"""What the markets commands say when Kalshi or the API key fails: one clear line, no traceback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from markets.credentials import CredentialError
from markets.errors import AuthError, ExchangeUnavailable, KalshiError, RateLimited
from markets.transport import NO_KEY_MESSAGE

_TICKER = re.compile(r"^[A-Z0-9]+$")
RERUN = "Everything stored before the failure is kept; running the command again is safe."


@contextmanager
def exchange_errors() -> Iterator[None]:
    """Turn Kalshi and credential failures inside the block into CommandError."""
    try:
        yield
    except CredentialError as exc:
        raise CommandError(f"The configured Kalshi API key cannot be used: {exc}") from None
    except AuthError as exc:
        raise CommandError(
            f"Kalshi refused the request: {exc}\nIf no key is configured, {NO_KEY_MESSAGE}; "
            "otherwise check that the key belongs to this environment."
        ) from None
    except ExchangeUnavailable as exc:
        raise CommandError(f"Kalshi is unavailable: {exc}\nTry again later. {RERUN}") from None
    except RateLimited as exc:
        raise CommandError(f"Kalshi is rate limiting these requests: {exc}\nTry again in a minute. {RERUN}") from None
    except KalshiError as exc:
        raise CommandError(f"A Kalshi request failed: {exc}\n{RERUN}") from None


def series_list(value: str) -> list[str]:
    """'KXHIGHNY, kxhighchi' → ['KXHIGHNY', 'KXHIGHCHI'] (for --series)."""
    tickers = [part.strip().upper() for part in value.split(",") if part.strip()]
    bad = [t for t in tickers if not _TICKER.match(t)]
    if not tickers or bad:
        raise CommandError(f"--series takes series tickers separated by commas, e.g. KXHIGHNY,KXHIGHCHI; got {value!r}")
    return tickers
