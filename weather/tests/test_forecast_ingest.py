"""Forecast ingestion: every source and city, validated, stored point in time, never overwritten."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from weather.models import City, ForecastSnapshot, SourceHealth
from weather.services.forecasts import ReplaySource, forecast_dates, ingest_forecasts, latest_forecasts
from weather.services.stations import station_of
from weather.sources.base import (
    FetchResult,
    ForecastPoint,
    Rejection,
    SourceUnavailableError,
    Station,
    WeatherSource,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 7, 4, 18, 30, tzinfo=UTC)  # 13:30 EST at the stations in New York's zone


class FakeSource:
    """A WeatherSource that forecasts 70 + day-of-month, rejects Miami, and is down for Chicago."""

    def __init__(self, name: str = "fake", models: Sequence[str] = ("m1",)) -> None:
        self._name, self.models = name, models
        self.calls: list[tuple[str, tuple[date, ...]]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def enabled(self) -> bool:
        return True

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        self.calls.append((station.icao, tuple(dates)))
        if station.icao == "KMDW":
            raise SourceUnavailableError("fake: 503 from the provider")
        points = [
            ForecastPoint(
                source=self._name,
                model=model,
                station=station.icao,
                target_date=day,
                issued_at=now - timedelta(hours=3),
                fetched_at=now,
                high_f=70.0 + day.day,
                low_f=60.0,
                n_hours=24 if day > dates[0] else 11,
            )
            for model in self.models
            for day in dates
        ]
        if station.icao == "KMIA":
            return FetchResult(rejected=tuple(Rejection(p, "high of 200 °F is not plausible") for p in points))
        return FetchResult(points=tuple(points))


def cities(*names: str) -> list[City]:
    return list(City.objects.filter(name__in=names).order_by("name"))


def test_it_fetches_every_city_for_today_and_the_days_ahead():
    source = FakeSource(models=("m1", "m2"))
    report = ingest_forecasts(sources=[source], cities=cities("New York", "Denver"), now=NOW, days_ahead=2)
    assert sorted(source.calls) == [
        ("KDEN", (date(2025, 7, 4), date(2025, 7, 5), date(2025, 7, 6))),
        ("KNYC", (date(2025, 7, 4), date(2025, 7, 5), date(2025, 7, 6))),
    ]
    assert report.runs["fake"].stored == 12
    row = ForecastSnapshot.objects.get(city__name="New York", model="m2", target_date=date(2025, 7, 5))
    assert (row.high_f, row.available_at, row.issued_at, row.n_hours) == (75.0, NOW, NOW - timedelta(hours=3), 24)
    assert ForecastSnapshot.objects.get(city__name="New York", model="m1", target_date=date(2025, 7, 4)).n_hours == 11


def test_a_later_run_is_a_new_row_and_a_retry_adds_nothing():
    source = FakeSource()
    ingest_forecasts(sources=[source], cities=cities("New York"), now=NOW, days_ahead=0)
    ingest_forecasts(sources=[source], cities=cities("New York"), now=NOW, days_ahead=0)  # a retried task
    ingest_forecasts(sources=[source], cities=cities("New York"), now=NOW + timedelta(hours=1), days_ahead=0)
    assert ForecastSnapshot.objects.count() == 2
    assert sorted(ForecastSnapshot.objects.values_list("available_at", flat=True)) == [NOW, NOW + timedelta(hours=1)]


def test_nonsense_is_rejected_with_a_logged_reason_and_never_stored(caplog):
    caplog.set_level(logging.WARNING)
    report = ingest_forecasts(sources=[FakeSource()], cities=cities("Miami"), now=NOW, days_ahead=1)
    assert not ForecastSnapshot.objects.exists()
    assert report.runs["fake"].rejected == 2
    assert "Rejected fake/m1 KMIA 2025-07-04: high of 200 °F is not plausible" in caplog.text
    assert SourceHealth.objects.get(source="fake").last_rejected == 2


def test_one_city_failing_does_not_stop_the_others_and_health_records_it():
    report = ingest_forecasts(sources=[FakeSource()], cities=cities("Chicago", "New York"), now=NOW, days_ahead=0)
    assert report.runs["fake"].failures == ["Chicago: fake: 503 from the provider"]
    assert list(ForecastSnapshot.objects.values_list("city__name", flat=True)) == ["New York"]
    health = SourceHealth.objects.get(source="fake")
    assert (health.last_success_at, health.consecutive_failures, health.last_stored) == (NOW, 0, 1)


def test_a_source_down_everywhere_counts_failures_in_a_row():
    for hour in range(3):
        ingest_forecasts(
            sources=[FakeSource()], cities=cities("Chicago"), now=NOW + timedelta(hours=hour), days_ahead=0
        )
    health = SourceHealth.objects.get(source="fake")
    assert (health.consecutive_failures, health.total_failures, health.last_success_at) == (3, 3, None)
    assert "503" in health.last_error


def test_forecast_dates_use_the_stations_climate_day():
    denver = City.objects.get(name="Denver")
    # 06:30 UTC on 5 July is still 4 July in Denver's standard time (UTC-7).
    assert forecast_dates(denver, now=datetime(2025, 7, 5, 6, 30, tzinfo=UTC), days_ahead=1) == [
        date(2025, 7, 4),
        date(2025, 7, 5),
    ]


def test_the_query_helper_only_sees_what_was_available():
    source = FakeSource()
    ingest_forecasts(sources=[source], cities=cities("New York"), now=NOW, days_ahead=1)
    new_york = City.objects.get(name="New York")
    assert latest_forecasts(city=new_york, target_date=date(2025, 7, 5), as_of=NOW - timedelta(minutes=1)) == []
    [row] = latest_forecasts(city=new_york, target_date=date(2025, 7, 5), as_of=NOW)
    assert row.high_f == 75.0


def test_the_replay_source_serves_stored_forecasts_as_they_were_known():
    ingest_forecasts(sources=[FakeSource()], cities=cities("New York"), now=NOW, days_ahead=1)
    replay = ReplaySource("fake")
    assert isinstance(replay, WeatherSource)
    station = station_of(City.objects.get(name="New York"))
    assert replay.fetch(station, [date(2025, 7, 5)], now=NOW - timedelta(seconds=1)).points == ()
    [point] = replay.fetch(station, [date(2025, 7, 5)], now=NOW + timedelta(days=3)).points
    assert (point.source, point.model, point.high_f, point.fetched_at) == ("fake", "m1", 75.0, NOW)


def test_the_replay_source_serves_no_value_that_is_not_a_high():
    ForecastSnapshot.objects.create(
        city=City.objects.get(name="New York"),
        source="noaa-guidance",
        model="nbm-t2m-1500",
        target_date=date(2025, 7, 5),
        available_at=NOW,
        high_f=80.0,
        n_hours=1,
        quantity=ForecastSnapshot.Quantity.T2M_1500_LOCAL,
    )
    station = station_of(City.objects.get(name="New York"))
    assert ReplaySource("noaa-guidance").fetch(station, [date(2025, 7, 5)], now=NOW).points == ()
