"""Forecasts: fetched from every enabled source, stored point in time, read back as of a time.

Fetching is network-bound, so every (source, city) pair runs concurrently in a
thread pool; the database work happens afterwards in the calling thread.
Stored rows are never updated: a new run is a new row whose ``available_at``
is when we received it. Nonsense values (rejected by the sources' own
screening) are logged with their reason and counted, and never stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet

from kalshiweb.metrics import (
    FORECASTS_REJECTED,
    FORECASTS_STORED,
    WEATHER_FETCH_FAILURES,
    WEATHER_FETCH_SECONDS,
    WEATHER_FETCHES,
)
from weather.climate import climate_date_at
from weather.models import City, ForecastSnapshot
from weather.services.health import record_failure, record_success
from weather.services.stations import station_of
from weather.sources.base import FetchResult, ForecastPoint, SourceError, Station, WeatherSource, clamp_issued_at

logger = logging.getLogger(__name__)


@dataclass
class SourceRun:
    """What one source did in one cycle, over all cities."""

    source: str
    fetched: int = 0
    stored: int = 0
    rejected: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


@dataclass
class IngestReport:
    runs: dict[str, SourceRun] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(run.stored for run in self.runs.values())


def forecast_dates(city: City, *, now: datetime, days_ahead: int) -> list[date]:
    """The climate days worth forecasting for a city: today's (at the station) and the next ones."""
    today = climate_date_at(now, city.standard_utc_offset_minutes)
    return [today + timedelta(days=offset) for offset in range(days_ahead + 1)]


def ingest_forecasts(
    *,
    sources: Sequence[WeatherSource],
    cities: Sequence[City],
    now: datetime,
    days_ahead: int,
    concurrency: int = 8,
) -> IngestReport:
    """Fetch every source for every city concurrently, then store what passed validation."""
    jobs = [(source, city) for source in sources for city in cities]
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs) or 1))) as pool:
        outcomes = list(pool.map(lambda job: _fetch(job[0], job[1], now=now, days_ahead=days_ahead), jobs))
    report = IngestReport({source.name: SourceRun(source.name) for source in sources})
    to_store: list[tuple[City, ForecastPoint]] = []
    for (source, city), (result, error, seconds) in zip(jobs, outcomes, strict=True):
        run = report.runs[source.name]
        run.seconds.append(seconds)
        WEATHER_FETCHES.labels(source.name).inc()
        WEATHER_FETCH_SECONDS.labels(source.name).observe(seconds)
        if result is None:
            _note_failure(run, city, error or SourceError("no result"))
            continue
        run.fetched += 1
        to_store.extend((city, point) for point in result.points)
        run.rejected += _note_rejections(source.name, result)
        for failure in result.failures:
            _note_failure(run, city, failure)
    for source_name, stored in store_points(to_store).items():
        report.runs[source_name].stored = stored
    for run in report.runs.values():
        _record_health(run, now=now)
    return report


def _fetch(
    source: WeatherSource, city: City, *, now: datetime, days_ahead: int
) -> tuple[FetchResult | None, SourceError | None, float]:
    started = time.perf_counter()
    try:
        result = source.fetch(station_of(city), forecast_dates(city, now=now, days_ahead=days_ahead), now=now)
    except SourceError as exc:
        return None, exc, time.perf_counter() - started
    return result, None, time.perf_counter() - started


def store_points(points: Sequence[tuple[City, ForecastPoint]]) -> dict[str, int]:
    """Store forecast points as new snapshot rows in one insert; returns new rows per source."""
    if not points:
        return {}
    rows = [
        ForecastSnapshot(
            source=point.source,
            model=point.model,
            city=city,
            target_date=point.target_date,
            issued_at=clamp_issued_at(point.issued_at, fetched_at=point.fetched_at),
            available_at=point.fetched_at,
            high_f=point.high_f,
            low_f=point.low_f,
            members_high_f=list(point.members_high_f),
            members_low_f=list(point.members_low_f),
            n_hours=point.n_hours,
        )
        for city, point in points
    ]
    # Counted only where this insert can add rows (its cities, days and fetch times): the count then
    # stays the batch's size as the table grows, through the (city, target_date, available_at) index.
    same_fetch = ForecastSnapshot.objects.filter(
        city_id__in={city.pk for city, _ in points},
        target_date__in={row.target_date for row in rows},
        available_at__in={row.available_at for row in rows},
    )
    before = _count_by_source(same_fetch)
    # A retried task with the same fetch time must not duplicate rows: the unique
    # (source, model, city, day, available_at) constraint drops them.
    ForecastSnapshot.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    stored = {source: count - before.get(source, 0) for source, count in _count_by_source(same_fetch).items()}
    for source, count in stored.items():
        FORECASTS_STORED.labels(source).inc(count)
    return stored


def _count_by_source(rows: QuerySet[ForecastSnapshot]) -> dict[str, int]:
    # order_by(): Meta.ordering names city, and Django joins City for it even in a grouped count.
    return dict(rows.order_by().values_list("source").annotate(n=Count("id")).values_list("source", "n"))


def _note_rejections(source: str, result: FetchResult) -> int:
    for rejection in result.rejected:
        logger.warning("Rejected %s: %s", rejection.point.label, rejection.reason)
        FORECASTS_REJECTED.labels(source).inc()
    return len(result.rejected)


def _note_failure(run: SourceRun, city: City, error: SourceError) -> None:
    message = f"{city.name}: {error}"
    logger.warning("Weather source %s failed for %s", run.source, message)
    WEATHER_FETCH_FAILURES.labels(run.source).inc()
    run.failures.append(message)


def _record_health(run: SourceRun, *, now: datetime) -> None:
    latency = 1000 * sum(run.seconds) / len(run.seconds) if run.seconds else 0.0
    if run.fetched:
        record_success(run.source, now=now, latency_ms=latency, stored=run.stored, rejected=run.rejected)
    if run.failures and not run.fetched:
        record_failure(run.source, now=now, error="; ".join(run.failures[:5]))


def latest_forecasts(
    *, city: City, target_date: date, as_of: datetime, sources: Sequence[str] | None = None
) -> list[ForecastSnapshot]:
    """What we knew at ``as_of`` about ``city``'s climate day: the latest run of each source and model.

    One (day, time) at a time, through the queryset's point-in-time filter; the
    prediction code reads many at once with forecasts_known_at, which a property
    test holds to the same answer, so nothing downstream sees a value before it
    was available.
    """
    rows = ForecastSnapshot.objects.as_of(as_of).filter(city=city, target_date=target_date)
    if sources is not None:
        rows = rows.filter(source__in=sources)
    return list(rows.order_by("source", "model"))


def forecasts_known_at(
    *, city: City, moments: Sequence[tuple[date, datetime]], sources: Sequence[str] | None = None
) -> dict[tuple[date, datetime], list[ForecastSnapshot]]:
    """latest_forecasts for many (target day, as-of time) pairs of one city, in one query.

    For evaluations and backtests that ask about hundreds of days: same answer
    as latest_forecasts for each pair (a test holds them equal), without a
    query per pair.
    """
    if not moments:
        return {}
    wanted: dict[date, list[datetime]] = {}
    for day, when in moments:
        wanted.setdefault(day, []).append(when)
    latest_moment = max(when for _, when in moments)
    rows = ForecastSnapshot.objects.filter(city=city, target_date__in=wanted, available_at__lte=latest_moment)
    if sources is not None:
        rows = rows.filter(source__in=sources)
    # Archives hold hundreds of issues per day: find the newest ids from light tuples, streamed,
    # and load only those rows (a New York evaluation keeps ~600 of ~400,000).
    newest: dict[tuple[date, datetime], dict[tuple[str, str], int]] = {key: {} for key in moments}
    ordered_rows = rows.order_by("available_at", "id").values_list(
        "id", "target_date", "source", "model", "available_at"
    )
    for pk, day, source, model, available_at in ordered_rows.iterator(chunk_size=20_000):
        for when in wanted[day]:
            if available_at <= when:
                newest[(day, when)][(source, model)] = pk
    loaded = ForecastSnapshot.objects.in_bulk([pk for ids in newest.values() for pk in ids.values()])
    return {key: [loaded[ids[k]] for k in sorted(ids)] for key, ids in newest.items()}


class ReplaySource:
    """A WeatherSource that serves stored forecasts as they were known, for simulations and backtests.

    Only forecasts of the day's high and low: a ForecastPoint has no quantity, so a
    predictor such as the temperature at 15:00 local would come back as a high.
    """

    def __init__(self, source: str, *, model: str | None = None) -> None:
        self._source = source
        self._model = model

    @property
    def name(self) -> str:
        return self._source

    @property
    def enabled(self) -> bool:
        return True

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        city = City.objects.filter(station_icao=station.icao).first()
        if city is None:
            raise SourceError(f"replay {self._source}: no city has station {station.icao}")
        rows = ForecastSnapshot.objects.as_of(now).filter(
            city=city, source=self._source, target_date__in=list(dates), quantity=ForecastSnapshot.Quantity.HIGH
        )
        if self._model is not None:
            rows = rows.filter(model=self._model)
        points = tuple(
            ForecastPoint(
                source=row.source,
                model=row.model,
                station=city.station_icao,
                target_date=row.target_date,
                issued_at=row.issued_at,
                fetched_at=row.available_at,
                high_f=row.high_f,
                low_f=row.low_f,
                n_hours=row.n_hours,
                members_high_f=tuple(row.members_high_f),
                members_low_f=tuple(row.members_low_f),
            )
            for row in rows.order_by("target_date", "model")
        )
        return FetchResult(points=points)
