"""Settlement truth per event: the observed high next to the high Kalshi settled on.

Kalshi settles on the NWS climate report, so the two should agree; when they do
not (a corrected report, a station mix-up, or for history a GHCN value that the
CLI rounded differently) it is recorded on the event and logged, because P&L is
booked on Kalshi's value while models learn from observations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from markets.models import Event, Series
from markets.outcomes import event_outcome
from weather.models import City
from weather.services.truth import ObservedHigh, observed_highs

logger = logging.getLogger(__name__)
_CHECKED_FIELDS = ["observed_high_f", "observed_high_source", "settled_high_f", "settlement_checked_at"]


@dataclass
class SettlementReport:
    checked: int = 0
    agree: int = 0
    disagree: list[str] = field(default_factory=list)
    unsettled: int = 0
    unobserved: int = 0
    conflicting: list[str] = field(default_factory=list)


def check_settlements(*, now: datetime, start: date | None = None, end: date | None = None) -> SettlementReport:
    """Record the observed and the settled high of every daily-high event in [start, end]."""
    report = SettlementReport()
    events = Event.objects.filter(
        series__measure=Series.Measure.HIGH, series__city__isnull=False, target_date__isnull=False
    )
    if start is not None:
        events = events.filter(target_date__gte=start)
    if end is not None:
        events = events.filter(target_date__lte=end)
    by_city: dict[City, list[tuple[date, Event]]] = {}
    for event in events.select_related("series__city").prefetch_related("markets").order_by("target_date"):
        city, day = event.series.city, event.target_date
        if city is not None and day is not None:  # guaranteed by the filter; narrows the types
            by_city.setdefault(city, []).append((day, event))
    for city, dated in by_city.items():
        truth = observed_highs(city, dated[0][0], dated[-1][0])
        for day, event in dated:
            _check_event(event, truth.get(day), report, now=now)
        with transaction.atomic():  # one write per city, not one commit per event
            Event.objects.bulk_update([event for _, event in dated], _CHECKED_FIELDS, batch_size=500)
    return report


def _check_event(event: Event, observed: ObservedHigh | None, report: SettlementReport, *, now: datetime) -> None:
    settled = _settled_high(event, report)
    value = Decimal(str(observed.value_f)) if observed is not None else None
    event.observed_high_f = value
    event.observed_high_source = observed.source if observed is not None else ""
    event.settled_high_f = settled
    event.settlement_checked_at = now
    report.checked += 1
    if settled is None:
        report.unsettled += 1
    if value is None:
        report.unobserved += 1
    if value is None or settled is None:
        return
    if value == settled:
        report.agree += 1
        return
    message = (
        f"{event.event_ticker}: observed {value} ({observed.source if observed else ''}), Kalshi settled on {settled}"
    )
    report.disagree.append(message)
    logger.warning("Settlement differs: %s", message)


def _settled_high(event: Event, report: SettlementReport) -> Decimal | None:
    outcome = event_outcome(event.markets.all())
    if outcome.conflict:
        report.conflicting.append(f"{event.event_ticker}: markets settled on {list(outcome.conflict)}")
    return outcome.settled_high
