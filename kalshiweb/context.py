"""What every page shows: the trading mode (unmistakable, LIVE above all) and the Kalshi environment."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

MODE_NOTES = {
    "DRY": "paper trading: no order leaves this machine",
    "DEMO": "Kalshi's demo exchange: play money",
    "LIVE": "LIVE: real money on Kalshi",
}


def trading_mode(request: HttpRequest) -> dict[str, str]:
    mode = str(settings.TRADING_MODE)
    return {
        "trading_mode": mode,
        "trading_mode_note": MODE_NOTES.get(mode, mode),
        "kalshi_env": str(settings.KALSHI_ENV),
    }
