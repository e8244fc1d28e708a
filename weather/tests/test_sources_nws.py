from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from weather.sources.base import (
    BadPayloadError,
    SourceUnavailableError,
    StaleForecastError,
    Station,
    WrongLocationError,
)
from weather.sources.nws import NwsSource, user_agent

FIXTURES = Path(__file__).parent / "fixtures"
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2025, 7, 4, 14, 10, tzinfo=UTC)  # 10:10 EDT
JULY_4, JULY_5, JULY_6, JULY_7 = (date(2025, 7, d) for d in (4, 5, 6, 7))
NYC = Station(
    icao="KNYC",
    latitude=40.7789,
    longitude=-73.9692,
    elevation_m=39.6,
    standard_utc_offset_minutes=-300,
    timezone="America/New_York",
    nws_grid_office="OKX",
    nws_grid_x=34,
    nws_grid_y=38,
)
CELL = [[[-73.9811, 40.7902], [-73.9863, 40.7680], [-73.9567, 40.7641], [-73.9515, 40.7862], [-73.9811, 40.7902]]]


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def hourly_payload(first_hour, temps, *, unit="F", update_time=NOW - timedelta(hours=1), cell=CELL, qv=False):
    """An hourly gridpoint forecast starting at ``first_hour`` (local EDT), one period per value."""
    periods = []
    for n, temp in enumerate(temps):
        start = first_hour + timedelta(hours=n)
        period = {
            "number": n + 1,
            "name": "",
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=1)).isoformat(),
            "isDaytime": 6 <= start.hour < 18,
            "windSpeed": "5 mph",
            "windDirection": "SW",
            "shortForecast": "Sunny",
        }
        if qv:
            period["temperature"] = {"unitCode": f"wmoUnit:deg{unit}", "value": temp}
        else:
            period |= {"temperature": temp, "temperatureUnit": unit}
        periods.append(period)
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": cell},
        "properties": {
            "units": "us",
            "forecastGenerator": "HourlyForecastGenerator",
            "generatedAt": (NOW - timedelta(minutes=5)).isoformat(),
            "updateTime": update_time.isoformat(),
            "elevation": {"unitCode": "wmoUnit:m", "value": 39.9},
            "periods": periods,
        },
    }


def july_hours():
    """48 hours from 00:00 EDT on 4 July: warm nights, a 95 °F spike at 00:00 EDT on 5 July."""
    first = datetime(2025, 7, 4, 0, tzinfo=NEW_YORK)
    temps = [75 + (10 - abs(h % 24 - 15)) for h in range(48)]  # peaks at 85 at 15:00
    temps[24] = 95  # 00:00 EDT 5 July = 23:00 EST 4 July
    temps[24 + 15] = 89  # the 5th's afternoon
    return first, temps


class FakeNws:
    def __init__(self, *, hourly=None, twelve_hour=None, points=None, status=None):
        self.hourly = hourly if hourly is not None else hourly_payload(*july_hours())
        self.twelve_hour = twelve_hour if twelve_hour is not None else fixture("nws_forecast_12h_nyc.json")
        self.points = points if points is not None else fixture("nws_points_nyc.json")
        self.status = status or {}
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path
        if path in self.status:
            return httpx.Response(self.status[path], json={"title": "Unexpected Problem", "status": 500})
        if path == "/points/40.7789,-73.9692":
            return httpx.Response(200, json=self.points)
        if path == "/gridpoints/OKX/34,38/forecast/hourly":
            return httpx.Response(200, json=self.hourly)
        if path == "/gridpoints/OKX/34,38/forecast":
            return httpx.Response(200, json=self.twelve_hour)
        return httpx.Response(404, json={"title": "Not Found", "status": 404})

    def source(self, **kwargs):
        return NwsSource(app_name="kalshiweb", contact="ops@example.com", transport=httpx.MockTransport(self), **kwargs)


def by_model(result, model):
    return {p.target_date: p for p in result.points if p.model == model}


def test_it_takes_the_max_inside_the_climate_day_not_the_calendar_day():
    result = FakeNws().source().fetch(NYC, [JULY_4, JULY_5], now=NOW)
    hourly = by_model(result, "hourly")
    assert hourly[JULY_4].high_f == 95.0  # the 00:00 EDT hour of the 5th is 23:00 EST on the 4th
    assert hourly[JULY_5].high_f == 89.0  # a calendar-day max would have said 95
    assert hourly[JULY_4].n_hours == 24
    assert hourly[JULY_5].n_hours == 23  # the series ends at 23:00 EDT on the 5th = 22:00 EST
    assert hourly[JULY_5].is_partial
    assert hourly[JULY_4].source == "nws"
    assert hourly[JULY_4].station == "KNYC"
    assert hourly[JULY_4].fetched_at == NOW
    assert result.rejected == ()
    assert result.failures == ()


def test_it_sends_the_user_agent_and_walks_from_points_to_the_grid():
    fake = FakeNws()
    fake.source().fetch(NYC, [JULY_4], now=NOW)
    assert [r.url.path for r in fake.requests] == [
        "/points/40.7789,-73.9692",
        "/gridpoints/OKX/34,38/forecast/hourly",
        "/gridpoints/OKX/34,38/forecast",
    ]
    assert {r.headers["User-Agent"] for r in fake.requests} == {"(kalshiweb, ops@example.com)"}
    assert {r.headers["Accept"] for r in fake.requests} == {"application/geo+json"}


def test_the_user_agent_needs_an_app_and_a_contact():
    assert user_agent(" kalshiweb ", "ops@example.com") == "(kalshiweb, ops@example.com)"
    with pytest.raises(ValueError, match="contact"):
        NwsSource(app_name="kalshiweb", contact=" ")


def test_today_is_partial_when_the_hourly_forecast_starts_this_afternoon():
    first = datetime(2025, 7, 4, 14, tzinfo=NEW_YORK)
    fake = FakeNws(hourly=hourly_payload(first, [86, 87, 88, 87] + [80] * 30))
    today = by_model(fake.source().fetch(NYC, [JULY_4], now=NOW), "hourly")[JULY_4]
    assert today.n_hours == 11  # 13:00 to 24:00 EST
    assert today.is_partial
    assert today.high_f == 88.0


def test_issued_at_is_the_update_time_of_the_grid_data():
    result = FakeNws().source().fetch(NYC, [JULY_4], now=NOW)
    assert by_model(result, "hourly")[JULY_4].issued_at == NOW - timedelta(hours=1)
    assert by_model(result, "12h")[JULY_4].issued_at == datetime(2025, 7, 4, 13, 37, 45, tzinfo=UTC)


def test_it_falls_back_to_generated_at_when_there_is_no_update_time():
    payload = hourly_payload(*july_hours())
    del payload["properties"]["updateTime"]
    result = FakeNws(hourly=payload).source().fetch(NYC, [JULY_4], now=NOW)
    assert by_model(result, "hourly")[JULY_4].issued_at == NOW - timedelta(minutes=5)


@pytest.mark.parametrize("qv", [False, True], ids=["integer", "quantitative-value"])
def test_it_converts_celsius_forecasts(qv):
    first = datetime(2025, 7, 4, 0, tzinfo=NEW_YORK)
    fake = FakeNws(hourly=hourly_payload(first, [30.0] * 12 + [32.5] + [25.0] * 20, unit="C", qv=qv))
    today = by_model(fake.source().fetch(NYC, [JULY_4], now=NOW), "hourly")[JULY_4]
    assert today.high_f == pytest.approx(90.5)
    assert today.low_f == pytest.approx(77.0)


def test_the_12h_periods_give_the_daytime_high_and_the_morning_low():
    twelve = by_model(FakeNws().source().fetch(NYC, [JULY_4, JULY_5, JULY_6, JULY_7], now=NOW), "12h")
    assert (twelve[JULY_4].high_f, twelve[JULY_4].low_f, twelve[JULY_4].n_hours) == (88.0, None, 15)
    assert (twelve[JULY_5].high_f, twelve[JULY_5].low_f, twelve[JULY_5].n_hours) == (91.0, 73.0, 24)
    assert (twelve[JULY_6].high_f, twelve[JULY_6].low_f, twelve[JULY_6].n_hours) == (86.0, 75.0, 24)
    assert (twelve[JULY_7].high_f, twelve[JULY_7].low_f, twelve[JULY_7].n_hours) == (None, 70.0, 5)
    assert twelve[JULY_4].is_partial and twelve[JULY_7].is_partial


def test_days_past_the_forecast_horizon_get_no_point():
    result = FakeNws().source().fetch(NYC, [JULY_4, date(2025, 7, 20)], now=NOW)
    assert {p.target_date for p in result.points} == {JULY_4}


def test_an_absurd_hour_rejects_only_its_own_day():
    first, temps = july_hours()
    temps[30] = 200  # 06:00 EDT on 5 July
    result = FakeNws(hourly=hourly_payload(first, temps)).source().fetch(NYC, [JULY_4, JULY_5], now=NOW)
    assert JULY_4 in by_model(result, "hourly")
    assert JULY_5 not in by_model(result, "hourly")
    [rejection] = result.rejected
    assert rejection.reason == ("nws/hourly KNYC 2025-07-05: high_f 200.0 °F is outside the plausible -80..135 °F")


def test_a_nan_hour_is_rejected_not_averaged_away():
    first, temps = july_hours()
    text = json.dumps(hourly_payload(first, temps)).replace('"temperature": 80,', '"temperature": NaN,', 1)
    fake = FakeNws()
    handler = fake.__call__

    def with_nan(request):
        if request.url.path.endswith("/hourly"):
            return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/geo+json"})
        return handler(request)

    source = NwsSource(app_name="kalshiweb", contact="ops@example.com", transport=httpx.MockTransport(with_nan))
    result = source.fetch(NYC, [JULY_4, JULY_5], now=NOW)
    assert [r.reason.split(": ", 1)[1] for r in result.rejected] == ["high_f is nan, not a number"]


def test_a_stale_grid_is_refused_with_its_age():
    stale = hourly_payload(*july_hours(), update_time=NOW - timedelta(days=2))
    result = FakeNws(hourly=stale).source().fetch(NYC, [JULY_4], now=NOW)
    assert {p.model for p in result.points} == {"12h"}  # the 12-hour product is still fresh
    [failure] = result.failures
    assert isinstance(failure, StaleForecastError)
    assert str(failure) == "nws hourly KNYC: stale run issued 2025-07-02T14:10Z, 48.0 h old (limit 18 h)"


def test_when_every_product_fails_the_fetch_raises():
    fake = FakeNws(status={"/gridpoints/OKX/34,38/forecast/hourly": 500, "/gridpoints/OKX/34,38/forecast": 503})
    with pytest.raises(SourceUnavailableError, match=r"nws hourly KNYC: GET .*/forecast/hourly answered 500"):
        fake.source().fetch(NYC, [JULY_4], now=NOW)


def test_one_failing_product_keeps_the_other():
    fake = FakeNws(status={"/gridpoints/OKX/34,38/forecast": 500})
    result = fake.source().fetch(NYC, [JULY_4], now=NOW)
    assert {p.model for p in result.points} == {"hourly"}
    assert isinstance(result.failures[0], SourceUnavailableError)


def test_a_point_in_another_time_zone_is_the_wrong_location():
    points = fixture("nws_points_nyc.json")
    points["properties"]["timeZone"] = "America/Chicago"
    with pytest.raises(WrongLocationError, match=r"the point is in America/Chicago \(standard offset -360 min\)"):
        FakeNws(points=points).source().fetch(NYC, [JULY_4], now=NOW)


def test_a_grid_cell_far_from_the_station_is_the_wrong_location():
    far = [[[lon + 1.2, lat] for lon, lat in CELL[0]]]  # ~100 km east
    result = FakeNws(hourly=hourly_payload(*july_hours(), cell=far)).source().fetch(NYC, [JULY_4], now=NOW)
    [failure] = result.failures
    assert isinstance(failure, WrongLocationError)
    assert "km from KNYC" in str(failure)


def test_a_cell_wrapped_in_a_geometry_collection_is_checked_too():
    far = [[[lon + 1.2, lat] for lon, lat in CELL[0]]]
    payload = hourly_payload(*july_hours())
    payload["geometry"] = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [-73.97, 40.78]}, {"type": "Polygon", "coordinates": far}],
    }
    result = FakeNws(hourly=payload).source().fetch(NYC, [JULY_4], now=NOW)
    assert isinstance(result.failures[0], WrongLocationError)


def test_a_regridded_station_uses_points_and_warns(caplog):
    moved = Station(**(NYC.__dict__ | {"nws_grid_x": 33}))
    with caplog.at_level("WARNING", logger="weather.sources.nws"):
        FakeNws().source().fetch(moved, [JULY_4], now=NOW)
    assert "configured with OKX/33,38; using /points" in caplog.text


def test_a_missing_field_is_a_bad_payload_naming_it():
    payload = hourly_payload(*july_hours())
    del payload["properties"]["periods"][3]["startTime"]
    result = FakeNws(hourly=payload).source().fetch(NYC, [JULY_4], now=NOW)
    [failure] = result.failures
    assert isinstance(failure, BadPayloadError)
    assert str(failure) == "nws hourly KNYC.periods[3]: missing field 'startTime'"


def test_points_that_cannot_be_read_stop_the_fetch():
    with pytest.raises(BadPayloadError, match=r"nws points KNYC: missing field 'gridId'"):
        FakeNws(points={"properties": {"gridX": 1, "gridY": 2}}).source().fetch(NYC, [JULY_4], now=NOW)
