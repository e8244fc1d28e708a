"""What every page shows: the trading mode (unmistakable, LIVE above all), the Kalshi environment, the trading state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

MODE_NOTES = {
    "DRY": "paper trading: no order leaves this machine",
    "DEMO": "Kalshi's demo exchange: play money",
    "LIVE": "LIVE: real money on Kalshi",
}


def trading_mode(request: HttpRequest) -> dict[str, Any]:
    mode = str(settings.TRADING_MODE)
    return {
        "trading_mode": mode,
        "trading_mode_note": MODE_NOTES.get(mode, mode),
        "kalshi_env": str(settings.KALSHI_ENV),
        # A callable, so the query runs only where a template shows the banner (not in htmx fragments).
        "banner_trading_state": lambda: banner_trading_state(request),
    }


def banner_trading_state(request: HttpRequest) -> Any:
    """The kill switch as the banner shows it, for staff only (its reason is not for the login page).

    One query, cached on the request so a page that shows the state again
    (the status page) does not ask twice. Read without ``TradingState.load()``:
    rendering a page never writes, and an installation with no row yet is
    halted, which is what a fresh unsaved row says.
    """
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_staff", False):
        return None
    cached = getattr(request, "_trading_state", None)
    if cached is None:
        from trading.models import TradingState  # deferred: this module is imported by settings-time code paths

        cached = TradingState.objects.filter(pk=TradingState.SINGLETON_PK).first() or TradingState()
        request._trading_state = cached  # type: ignore[attr-defined]
    return cached


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """The nonce an inline <script> needs to run under the content security policy."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
