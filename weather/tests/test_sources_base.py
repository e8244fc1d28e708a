from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from weather.sources.base import (
    BadPayloadError,
    ForecastPoint,
    SourceRequestError,
    SourceUnavailableError,
    StaleForecastError,
    Station,
    WeatherSource,
    WrongLocationError,
    check_point,
    clamp_issued_at,
    daily_extremes,
    gather,
    require_fresh,
    require_near,
    screen,
    to_fahrenheit,
)
from weather.sources.http import QueryKeyTransport, get_json, make_client
from weather.sources.nws import NwsSource
from weather.sources.open_meteo import OpenMeteoEnsembleSource, OpenMeteoSource
from weather.sources.visual_crossing import VisualCrossingSource

NEW_YORK = ZoneInfo("America/New_York")
EST = -300
NOW = datetime(2025, 7, 4, 14, tzinfo=UTC)
NYC = Station(
    icao="KNYC",
    latitude=40.7789,
    longitude=-73.9692,
    elevation_m=39.6,
    standard_utc_offset_minutes=EST,
    timezone="America/New_York",
    cli_code="NYC",
    cli_office="OKX",
)


GOOD = ForecastPoint(
    source="test",
    model="m",
    station="KNYC",
    target_date=date(2025, 7, 4),
    issued_at=NOW - timedelta(hours=2),
    fetched_at=NOW,
    high_f=88.0,
    low_f=71.0,
    n_hours=24,
)


def point(**overrides):
    return replace(GOOD, **overrides)


def local(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (20.0, "wmoUnit:degC", 68.0),
        (-40.0, "degC", -40.0),
        (100.0, "°C", 212.0),
        (71.5, "wmoUnit:degF", 71.5),
        (71.5, "F", 71.5),
        (273.15, "wmoUnit:K", 32.0),
    ],
)
def test_it_converts_every_unit_the_payloads_name_to_fahrenheit(value, unit, expected):
    assert to_fahrenheit(value, unit, where="x") == pytest.approx(expected)


def test_an_unknown_unit_is_a_bad_payload_naming_where():
    with pytest.raises(BadPayloadError, match=r"nws hourly KNYC\.periods\[3\]: unknown temperature unit 'degR'"):
        to_fahrenheit(500.0, "degR", where="nws hourly KNYC.periods[3]")


def test_it_takes_the_max_inside_the_climate_day():
    # 23:00 EST on the 14th belongs to the 14th; 00:00 EST on the 15th does not.
    samples = [
        (datetime(2025, 1, 14, 5, tzinfo=UTC), 20.0),  # 00:00 EST, first hour of the day
        (datetime(2025, 1, 14, 19, tzinfo=UTC), 35.0),
        (datetime(2025, 1, 15, 4, tzinfo=UTC), 30.0),  # 23:00 EST, last hour of the day
        (datetime(2025, 1, 15, 5, tzinfo=UTC), 50.0),  # 00:00 EST on the 15th
        (datetime(2025, 1, 14, 4, tzinfo=UTC), 60.0),  # 23:00 EST on the 13th
    ]
    days = daily_extremes(samples, [date(2025, 1, 14)], EST)
    assert days[date(2025, 1, 14)].high_f == 35.0
    assert days[date(2025, 1, 14)].low_f == 20.0
    assert days[date(2025, 1, 14)].n_hours == 3


def test_the_climate_day_is_the_standard_time_day_even_in_july():
    # 00:30 EDT on 5 July is 23:30 EST on 4 July: it belongs to the 4th's climate day.
    samples = [
        (local(2025, 7, 4, 15, 30), 88.0),
        (local(2025, 7, 5, 0, 30), 93.0),
        (local(2025, 7, 5, 1, 30), 79.0),  # 00:30 EST on the 5th
        (local(2025, 7, 5, 15, 30), 84.0),
    ]
    days = daily_extremes(samples, [date(2025, 7, 4), date(2025, 7, 5)], EST)
    assert days[date(2025, 7, 4)].high_f == 93.0
    assert days[date(2025, 7, 5)].high_f == 84.0
    assert days[date(2025, 7, 5)].low_f == 79.0


def test_it_counts_hours_so_a_partial_day_is_flagged():
    start = local(2025, 7, 4, 14)  # a forecast that starts mid-afternoon
    samples = [(start + timedelta(hours=h), 80.0 + h) for h in range(30)]
    days = daily_extremes(samples, [date(2025, 7, 4), date(2025, 7, 5)], EST)
    assert days[date(2025, 7, 4)].n_hours == 11  # 14:00 EDT (13:00 EST) to midnight EST
    assert days[date(2025, 7, 5)].n_hours == 19
    assert point(n_hours=11).is_partial
    assert not point(n_hours=24).is_partial


def test_sub_hourly_values_count_each_hour_once_and_nulls_not_at_all():
    start = local(2025, 1, 14, 0)
    samples = [(start + timedelta(minutes=15 * q), 30.0) for q in range(24 * 4)] + [(start, None)]
    days = daily_extremes(samples, [date(2025, 1, 14)], EST)
    assert days[date(2025, 1, 14)].n_hours == 24
    only_nulls = daily_extremes([(start, None)], [date(2025, 1, 14)], EST)
    assert only_nulls[date(2025, 1, 14)].n_hours == 0
    assert only_nulls[date(2025, 1, 14)].high_f is None


def test_a_nan_poisons_only_its_own_day():
    samples = [(local(2025, 1, 14, 12), math.nan), (local(2025, 1, 15, 12), 40.0)]
    days = daily_extremes(samples, [date(2025, 1, 14), date(2025, 1, 15)], EST)
    poisoned = days[date(2025, 1, 14)].high_f
    assert poisoned is not None and math.isnan(poisoned)
    assert days[date(2025, 1, 15)].high_f == 40.0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"high_f": math.nan}, "high_f is nan, not a number"),
        ({"low_f": math.inf}, "low_f is inf, not a number"),
        ({"high_f": 200.0}, "high_f 200.0 °F is outside the plausible -80..135 °F"),
        ({"high_f": 60.0, "low_f": 70.0}, "low_f 70.0 °F is above high_f 60.0 °F"),
        ({"high_f": None, "low_f": None}, "no values inside the climate day"),
        ({"n_hours": 25}, "n_hours 25 is outside 0..24"),
        ({"members_high_f": (80.0, math.nan)}, "members_high_f[1] is nan"),
        ({"issued_at": NOW - timedelta(hours=30)}, "stale run issued 2025-07-03T08:00Z, 30.0 h old (limit 18 h)"),
        ({"issued_at": NOW + timedelta(hours=1)}, "issued_at 2025-07-04T15:00:00+00:00 is after fetched_at"),
        ({"fetched_at": NOW + timedelta(hours=1)}, "is after now"),
    ],
)
def test_check_point_rejects_nonsense_with_a_reason(overrides, reason):
    problem = check_point(point(**overrides), now=NOW)
    assert problem is not None
    assert problem.startswith("test/m KNYC 2025-07-04: ")
    assert reason in problem


def test_check_point_accepts_a_plausible_point_and_a_partial_one():
    assert check_point(point(), now=NOW) is None
    assert check_point(point(n_hours=9, low_f=None), now=NOW) is None


def test_screen_keeps_good_points_and_explains_every_rejection():
    good, hot = point(), point(target_date=date(2025, 7, 5), high_f=212.0)
    result = screen([good, hot], now=NOW)
    assert result.points == (good,)
    assert [r.point for r in result.rejected] == [hot]
    assert "212.0 °F" in result.rejected[0].reason


def test_require_near_names_the_distance_and_the_station():
    require_near(NYC, 40.78, -73.97, max_km=5, where="x")
    with pytest.raises(WrongLocationError, match=r"x: answered for 41\.8781,-87\.6298, 1146 km from KNYC"):
        require_near(NYC, 41.8781, -87.6298, max_km=50, where="x")
    with pytest.raises(WrongLocationError):
        require_near(NYC, -73.9692, 40.7789, max_km=50, where="swapped")


def test_a_stale_product_raises_and_a_fresh_one_does_not():
    require_fresh(NOW - timedelta(hours=3), now=NOW, max_age=timedelta(hours=18), where="nws hourly KNYC")
    require_fresh(None, now=NOW, max_age=timedelta(hours=18), where="nws hourly KNYC")
    with pytest.raises(StaleForecastError, match=r"nws hourly KNYC: stale run issued 2025-07-02T14:00Z, 48\.0 h old"):
        require_fresh(NOW - timedelta(days=2), now=NOW, max_age=timedelta(hours=18), where="nws hourly KNYC")


def test_a_run_stamped_a_minute_ahead_is_clock_skew():
    assert clamp_issued_at(NOW + timedelta(minutes=1), fetched_at=NOW) == NOW
    assert clamp_issued_at(NOW + timedelta(hours=1), fetched_at=NOW) == NOW + timedelta(hours=1)
    assert clamp_issued_at(None, fetched_at=NOW) is None


def test_gather_keeps_the_good_parts_and_raises_only_when_all_fail():
    def good():
        return [point()]

    def bad():
        raise SourceUnavailableError("down")

    points, failures = gather([good, bad])
    assert points == [point()]
    assert [str(f) for f in failures] == ["down"]
    with pytest.raises(SourceUnavailableError, match="down"):
        gather([bad, bad])


def test_a_station_rejects_bad_ids_coordinates_and_offsets():
    with pytest.raises(ValueError, match="ICAO"):
        Station(icao="nyc", latitude=0, longitude=0, elevation_m=0, standard_utc_offset_minutes=0, timezone="UTC")
    with pytest.raises(ValueError, match="out of range"):
        Station(icao="KNYC", latitude=140, longitude=0, elevation_m=0, standard_utc_offset_minutes=0, timezone="UTC")
    with pytest.raises(ValueError, match="outside"):
        Station(icao="KNYC", latitude=0, longitude=0, elevation_m=0, standard_utc_offset_minutes=-900, timezone="UTC")
    assert NYC.climate_window(date(2025, 7, 4))[0] == datetime(2025, 7, 4, 5, tzinfo=UTC)


def test_forecast_points_need_aware_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        point(fetched_at=datetime(2025, 7, 4, 12))


def test_every_adapter_is_a_weather_source():
    sources: list[WeatherSource] = [
        NwsSource(app_name="kalshiweb-tests", contact="ops@example.com"),
        OpenMeteoSource(),
        OpenMeteoEnsembleSource(),
        VisualCrossingSource(api_key=None),
    ]
    for source in sources:
        assert isinstance(source, WeatherSource), source
    assert [s.name for s in sources] == ["nws", "open-meteo", "open-meteo-ensemble", "visual-crossing"]


def _client(handler):
    return make_client(transport=httpx.MockTransport(handler), timeout=1.0)


def test_get_json_maps_each_failure_to_a_source_error():
    def timeout(request):
        raise httpx.ReadTimeout("read timed out", request=request)

    with pytest.raises(SourceUnavailableError, match=r"x: GET https://h\.test/a\?q=1 timed out \(ReadTimeout\)"):
        get_json(_client(timeout), "https://h.test/a", where="x", params={"q": "1"})

    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(SourceUnavailableError, match="ConnectError: connection refused"):
        get_json(_client(refused), "https://h.test/a", where="x")

    problem = {"title": "Unexpected Problem", "detail": "An unexpected problem has occurred.", "status": 500}
    with pytest.raises(SourceUnavailableError, match="answered 500 Internal Server Error: Unexpected Problem - An"):
        get_json(_client(lambda r: httpx.Response(500, json=problem)), "https://h.test/a", where="x")
    with pytest.raises(SourceUnavailableError, match="answered 429"):
        get_json(_client(lambda r: httpx.Response(429, text="slow down")), "https://h.test/a", where="x")
    reason = {"error": True, "reason": "Cannot initialize ForecastModel from invalid String value gfs_bogus"}
    with pytest.raises(SourceRequestError, match="answered 400 Bad Request: Cannot initialize ForecastModel"):
        get_json(_client(lambda r: httpx.Response(400, json=reason)), "https://h.test/a", where="x")
    with pytest.raises(BadPayloadError, match="the body is not JSON: <html>oops</html>"):
        get_json(_client(lambda r: httpx.Response(200, text="<html>oops</html>")), "https://h.test/a", where="x")


def test_the_query_key_is_added_below_the_client_and_scrubbed_from_transport_errors():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    transport = QueryKeyTransport(httpx.MockTransport(handler), name="key", value="s3cr3t-key-value")
    assert "s3cr3t" not in repr(transport)
    client = httpx.Client(transport=transport)
    with pytest.raises(httpx.ConnectError) as caught:
        client.get("https://h.test/a?x=1")
    assert seen == ["https://h.test/a?x=1&key=s3cr3t-key-value"]
    assert "s3cr3t" not in str(caught.value)
    assert "key=***" in str(caught.value)
    assert "s3cr3t" not in str(caught.value.request.url)


def test_the_sources_and_the_cli_parser_import_neither_django_nor_the_project():
    modules = "weather.sources.nws, weather.sources.open_meteo, weather.sources.visual_crossing"
    modules += ", weather.sources.station_obs, weather.climate_report"
    roots = "{m.split('.')[0] for m in sys.modules}"
    probe = f"import sys, {modules}; print(sorted({roots} & {{'django', 'celery', 'kalshiweb'}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
