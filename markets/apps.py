from __future__ import annotations

from django.apps import AppConfig


class MarketsConfig(AppConfig):
    """Kalshi series, events, markets, order books, trade tapes and API keys."""

    name = "markets"
    verbose_name = "Markets"
