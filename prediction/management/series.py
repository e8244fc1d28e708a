"""The prediction commands' --series: the tickers (parsed by markets' series_list) looked up, naming any missing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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


def daily_high_series(wanted: Sequence[str] | None, start: date, end: date) -> list[Series]:
    """The daily-high series named in ``wanted``, or else every one with an event in [start, end]."""
    queryset = Series.objects.filter(city__isnull=False, measure=Series.Measure.HIGH).select_related("city")
    if wanted is not None:
        return named_series(queryset, wanted, unknown="Unknown or city-less daily-high series")
    found = list(queryset.filter(events__target_date__gte=start, events__target_date__lte=end).distinct())
    if not found:
        raise CommandError(f"No daily-high events between {start} and {end}; run importhistory (or syncmarkets) first.")
    return found
