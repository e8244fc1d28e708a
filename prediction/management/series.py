"""The prediction commands' --series: the tickers (parsed by markets' series_list) looked up, naming any missing."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.management.base import CommandError
from django.db.models import QuerySet

from markets.models import Series


def named_series(queryset: QuerySet[Series], tickers: Sequence[str], *, unknown: str) -> list[Series]:
    """The series of ``queryset`` with these tickers; a CommandError ``unknown: <missing tickers>`` if any lack."""
    found = list(queryset.filter(ticker__in=tickers))
    missing = sorted(set(tickers) - {s.ticker for s in found})
    if missing:
        raise CommandError(f"{unknown}: {', '.join(missing)}")
    return found
