from __future__ import annotations

from django.apps import AppConfig


class BacktestingConfig(AppConfig):
    """Replays of recorded history through the live decision code."""

    name = "backtesting"
    verbose_name = "Backtesting"
