from __future__ import annotations

from django.apps import AppConfig


class TradingConfig(AppConfig):
    """Fees, sizing, risk, orders, fills, positions, settlement and the kill switch."""

    name = "trading"
    verbose_name = "Trading"
