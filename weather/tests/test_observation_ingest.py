"""Observations: the settlement value per city and day, and the running extremes of the day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from weather.climate_report import ClimateReport, TemperatureReading
from weather.models import City, Observation, RunningExtreme
from weather.services.observations import cities_due, ingest_climate_reports, ingest_running_extremes
from weather.services.truth import observed_highs
from weather.sources.base import SourceUnavailableError, Station
from weather.sources.station_obs import RunningExtremes

pytestmark = pytest.mark.django_db

DAY = date(2025, 2, 27)


def report(high: int, *, issued: datetime, preliminary: bool = False, correction: bool = False, code: str = "NYC"):
    reading = TemperatureReading(observed=high, time_lst=time(14, 51))
    return ClimateReport(
        cli_code=code,
        office="KOKX",
        station_name="CENTRAL PARK NY",
        climate_date=DAY,
        issued_at=issued,
        high_f=high,
        low_f=30,
        is_preliminary=preliminary,
        is_correction=correction,
        valid_as_of=time(16) if preliminary else None,
        maximum=reading,
        minimum=replace(reading, observed=30),
    )


PRELIM = datetime(2025, 2, 27, 21, 30, tzinfo=UTC)
FINAL = datetime(2025, 2, 28, 6, 36, tzinfo=UTC)


def ingest(*reports):
    return ingest_climate_reports(cities=[City.objects.get(name="New York")], now=FINAL, fetch=lambda code: reports)


def rows():
    return {
        o.source: (o.high_f, o.is_final, o.reported_at)
        for o in Observation.objects.filter(city__name="New York", date=DAY)
    }


def test_preliminary_and_final_values_are_kept_apart_and_the_final_wins():
    ingest(report(44, issued=PRELIM, preliminary=True))
    ingest(report(46, issued=FINAL), report(44, issued=PRELIM, preliminary=True))
    assert rows() == {"cli-preliminary": (44.0, False, PRELIM), "cli": (46.0, True, FINAL)}
    new_york = City.objects.get(name="New York")
    assert observed_highs(new_york, DAY, DAY)[DAY].value_f == 46.0


def test_a_later_correction_replaces_the_final_value_and_an_older_report_cannot():
    corrected_at = FINAL + timedelta(hours=5)
    ingest(report(46, issued=FINAL))
    ingest(report(47, issued=corrected_at, correction=True))
    ingest(report(46, issued=FINAL))  # the original again, e.g. an earlier page of the listing
    assert rows()["cli"] == (47.0, True, corrected_at)


def test_a_report_for_another_station_is_refused():
    result = ingest(report(80, issued=FINAL, code="MIA"))
    assert result.problems == ["New York: got CLIMIA, expected CLINYC"]
    assert not Observation.objects.exists()


def test_a_fetch_failure_is_reported_not_raised():
    def down(code):
        raise SourceUnavailableError("api.weather.gov 503")

    result = ingest_climate_reports(cities=[City.objects.get(name="New York")], now=FINAL, fetch=down)
    assert result.problems == ["New York: api.weather.gov 503"]


def test_truth_prefers_the_climate_report_then_acis_then_ghcn():
    new_york = City.objects.get(name="New York")
    for source, value in [("ghcnd", 45.0), ("acis", 46.0), ("cli-preliminary", 40.0), ("station-running", 41.0)]:
        Observation.objects.create(city=new_york, date=DAY, source=source, high_f=value)
    assert observed_highs(new_york, DAY, DAY)[DAY].source == "acis"
    Observation.objects.create(city=new_york, date=DAY, source="cli", high_f=47.0, is_final=True)
    assert observed_highs(new_york, DAY, DAY)[DAY].value_f == 47.0
    Observation.objects.create(city=new_york, date=DAY + timedelta(days=1), source="cli-preliminary", high_f=50.0)
    assert DAY + timedelta(days=1) not in observed_highs(new_york, DAY, DAY + timedelta(days=1))


class FakeObserver:
    def __init__(self, max_f: float, latest: datetime | None) -> None:
        self.max_f, self.latest = max_f, latest

    def running_extremes(self, station: Station, *, now: datetime) -> RunningExtremes:
        day = station.climate_date(now)
        return RunningExtremes(station.icao, day, now, self.max_f, 30.0, 12, self.latest)


def test_running_extremes_are_appended_once_per_new_observation():
    new_york = [City.objects.get(name="New York")]
    now = datetime(2025, 2, 27, 20, tzinfo=UTC)
    observed = now - timedelta(minutes=9)
    ingest_running_extremes(cities=new_york, now=now, observer=FakeObserver(44.0, observed))
    ingest_running_extremes(cities=new_york, now=now + timedelta(minutes=5), observer=FakeObserver(44.0, observed))
    ingest_running_extremes(
        cities=new_york, now=now + timedelta(hours=1), observer=FakeObserver(45.0, observed + timedelta(hours=1))
    )
    assert list(RunningExtreme.objects.order_by("observed_at").values_list("max_f", "recorded_at")) == [
        (44.0, now),
        (45.0, now + timedelta(hours=1)),
    ]
    ingest_running_extremes(cities=new_york, now=now, observer=FakeObserver(46.0, None))  # nothing observed yet
    assert RunningExtreme.objects.count() == 2


def test_cities_are_observed_more_often_late_in_their_climate_day():
    new_york = City.objects.get(name="New York")
    morning = datetime(2025, 2, 27, 14, tzinfo=UTC)  # 09:00 EST: 15 h of the day left
    evening = datetime(2025, 2, 28, 1, tzinfo=UTC)  # 20:00 EST: 4 h left
    for when in (morning, evening):
        RunningExtreme.objects.create(
            city=new_york,
            date=DAY,
            observed_at=when - timedelta(minutes=20),
            recorded_at=when - timedelta(minutes=15),
            max_f=40.0,
        )
        assert cities_due([new_york], now=when) == ([new_york] if when == evening else [])
