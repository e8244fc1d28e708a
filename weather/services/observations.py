"""Observations: the NWS climate reports markets settle on, and the running extremes of the day.

A climate day's CLI value arrives in stages: preliminary reports during the
day, the final one after midnight local standard time, sometimes a correction
later. Preliminary and final values are kept on separate rows; the final row
is only ever replaced by a later final report (a correction), never by a
preliminary one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings

from kalshiweb.metrics import OBSERVATIONS_STORED, WEATHER_FETCH_FAILURES, WEATHER_FETCHES
from weather.climate import climate_date_at, climate_day_window
from weather.climate_report import ClimateReport, best_report, fetch_climate_reports
from weather.models import City, Observation, RunningExtreme
from weather.services.health import record_failure, record_success
from weather.services.registry import APP_NAME
from weather.services.stations import station_of
from weather.sources.base import SourceError, Station
from weather.sources.station_obs import RunningExtremes, StationObservations

logger = logging.getLogger(__name__)

CLI_SOURCE = "nws-cli"
STATION_SOURCE = "nws-station-observations"
# Near the end of the climate day the running maximum decides markets: look more often then.
LATE_IN_DAY = timedelta(hours=6)
LATE_EVERY = timedelta(minutes=10)
NORMAL_EVERY = timedelta(minutes=60)

ReportFetcher = Callable[[str], Sequence[ClimateReport]]


class Observer(Protocol):
    """Gives a station's running extremes (StationObservations live; a fake in tests)."""

    def running_extremes(self, station: Station, *, now: datetime) -> RunningExtremes: ...


@dataclass
class ObservationReport:
    stored: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def default_report_fetcher(cli_code: str) -> Sequence[ClimateReport]:
    return fetch_climate_reports(cli_code, app_name=APP_NAME, contact=settings.WEATHER_CONTACT, limit=4)


def ingest_climate_reports(
    *, cities: Iterable[City], now: datetime, fetch: ReportFetcher = default_report_fetcher
) -> ObservationReport:
    """Fetch each city's latest CLI reports and keep the best one per climate day."""
    report = ObservationReport()
    fetched = 0
    for city in cities:
        WEATHER_FETCHES.labels(CLI_SOURCE).inc()
        try:
            reports = fetch(city.nws_cli_code)
        except SourceError as exc:
            WEATHER_FETCH_FAILURES.labels(CLI_SOURCE).inc()
            report.problems.append(f"{city.name}: {exc}")
            continue
        fetched += 1
        by_day: dict[object, list[ClimateReport]] = defaultdict(list)
        for item in reports:
            if item.cli_code != city.nws_cli_code:
                # A report for another station must never become this city's settlement value.
                report.problems.append(f"{city.name}: got CLI{item.cli_code}, expected CLI{city.nws_cli_code}")
                continue
            by_day[item.climate_date].append(item)
        for day_reports in by_day.values():
            best = best_report(day_reports)
            if best is not None and store_climate_report(city, best):
                report.stored += 1
            else:
                report.unchanged += 1
    for problem in report.problems:
        logger.warning("Climate report problem: %s", problem)
    if fetched:
        record_success(CLI_SOURCE, now=now, latency_ms=0.0, stored=report.stored, rejected=len(report.problems))
    elif report.problems:
        record_failure(CLI_SOURCE, now=now, error="; ".join(report.problems[:5]))
    return report


def store_climate_report(city: City, report: ClimateReport) -> bool:
    """Keep ``report`` if it is news for its day; returns whether anything changed."""
    source = Observation.Source.CLI_PRELIMINARY if report.is_preliminary else Observation.Source.CLI
    current = Observation.objects.filter(city=city, date=report.climate_date, source=source).first()
    if current is not None and current.reported_at is not None and current.reported_at >= report.issued_at:
        return False  # an older or the same report: a final value is only replaced by a later final one
    Observation.objects.update_or_create(
        city=city,
        date=report.climate_date,
        source=source,
        defaults={
            "high_f": report.high_f,
            "low_f": report.low_f,
            "is_final": not report.is_preliminary,
            "reported_at": report.issued_at,
        },
    )
    OBSERVATIONS_STORED.labels(source).inc()
    if current is not None and not report.is_preliminary and current.high_f != report.high_f:
        logger.warning(
            "CLI%s %s corrected: high %s -> %s", report.cli_code, report.climate_date, current.high_f, report.high_f
        )
    return True


def cities_due(cities: Iterable[City], *, now: datetime) -> list[City]:
    """Cities whose running extremes should be fetched now: often late in the climate day, hourly otherwise."""
    due = []
    for city in cities:
        today = climate_date_at(now, city.standard_utc_offset_minutes)
        _, day_end = climate_day_window(today, city.standard_utc_offset_minutes)
        every = LATE_EVERY if day_end - now <= LATE_IN_DAY else NORMAL_EVERY
        latest = RunningExtreme.objects.filter(city=city, date=today).order_by("-recorded_at").first()
        if latest is None or now - latest.recorded_at >= every:
            due.append(city)
    return due


def ingest_running_extremes(
    *, cities: Iterable[City], now: datetime, observer: Observer | None = None
) -> ObservationReport:
    """Record the running max/min of each city's current climate day (append-only).

    Without an ``observer``, a live client is built for this run and closed at its end.
    """
    due = list(cities)
    if not due:
        return ObservationReport()  # none due: no client to build, nothing to record
    if observer is not None:
        return _observe(due, now=now, observer=observer)  # the caller's: theirs to close
    live = StationObservations(app_name=APP_NAME, contact=settings.WEATHER_CONTACT)
    try:
        return _observe(due, now=now, observer=live)
    finally:
        live.close()  # every run builds one: unclosed, each would leak its connection pool


def _observe(cities: Sequence[City], *, now: datetime, observer: Observer) -> ObservationReport:
    report = ObservationReport()
    for city in cities:
        WEATHER_FETCHES.labels(STATION_SOURCE).inc()
        try:
            extremes = observer.running_extremes(station_of(city), now=now)
        except SourceError as exc:
            WEATHER_FETCH_FAILURES.labels(STATION_SOURCE).inc()
            report.problems.append(f"{city.name}: {exc}")
            continue
        if store_running_extremes(city, extremes, now=now):
            report.stored += 1
        else:
            report.unchanged += 1
    if report.problems:
        logger.warning("Station observations failed: %s", "; ".join(report.problems))
        record_failure(STATION_SOURCE, now=now, error="; ".join(report.problems[:5]))
    if report.stored or report.unchanged:
        record_success(STATION_SOURCE, now=now, latency_ms=0.0, stored=report.stored, rejected=0)
    return report


def store_running_extremes(city: City, extremes: RunningExtremes, *, now: datetime) -> bool:
    """A new row when a newer observation arrived; nothing when there is none yet or it is known."""
    if extremes.latest_at is None:
        return False
    _, created = RunningExtreme.objects.get_or_create(
        city=city,
        date=extremes.climate_date,
        observed_at=extremes.latest_at,
        defaults={
            "recorded_at": now,
            "max_f": extremes.max_f,
            "min_f": extremes.min_f,
            "n_observations": extremes.n_observations,
        },
    )
    return created
