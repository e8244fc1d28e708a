"""Decimal columns for Kalshi's fixed-point money and counts.

Kalshi sends prices as dollar strings with up to 6 decimals (FixedPointDollars)
and counts with 2 (FixedPointCount). These helpers give every table the same
precision; they return plain DecimalFields so migrations stay stable.
"""

from __future__ import annotations

from typing import Any

from django.db import models


def price_field(verbose_name: str | None = None, **kwargs: Any) -> models.DecimalField[Any, Any]:
    """A contract price in dollars, 0 to 1, to the micro-dollar."""
    return models.DecimalField(verbose_name, max_digits=8, decimal_places=6, **kwargs)


def dollars_field(verbose_name: str | None = None, **kwargs: Any) -> models.DecimalField[Any, Any]:
    """An amount of money in dollars (cost, fee, P&L, balance)."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=6, **kwargs)


def count_field(verbose_name: str | None = None, **kwargs: Any) -> models.DecimalField[Any, Any]:
    """A number of contracts; fractional to the hundredth where a market allows it."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def strike_field(verbose_name: str | None = None, **kwargs: Any) -> models.DecimalField[Any, Any]:
    """A strike in the market's unit (°F for temperature markets)."""
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=2, null=True, blank=True, **kwargs)
