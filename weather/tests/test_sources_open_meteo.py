from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from weather.sources.base import BadPayloadError, SourceRequestError, Station, WrongLocationError
from weather.sources.open_meteo import OpenMeteoEnsembleSource, OpenMeteoSource

NOW = datetime(2025, 7, 4, 14, tzinfo=UTC)
JULY_4, JULY_5 = date(2025, 7, 4), date(2025, 7, 5)
SPIKE = datetime(2025, 7, 5, 4, tzinfo=UTC)  # 00:00 EDT on the 5th = 23:00 EST on the 4th
NYC = Station(
    icao="KNYC",
    latitude=40.7789,
    longitude=-73.9692,
    elevation_m=39.6,
    standard_utc_offset_minutes=-300,
    timezone="America/New_York",
)
MODEL_BIAS = {"gfs_seamless": 0.0, "ecmwf_ifs025": -1.0, "icon_seamless": 1.5, "gem_seamless": 0.5}


def temperature(at, bias=0.0):
    """A July day at Central Park: 72 °F at dawn, 88 °F at 15:00 EDT (19Z), plus a late spike."""
    if at == SPIKE:
        return 95.0 + bias
    return round(72.0 + 16.0 * max(0.0, 1 - abs(at.hour - 19) / 10) + bias, 1)


def hours(params):
    start = datetime.fromisoformat(params["start_date"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(params["end_date"]).replace(tzinfo=UTC) + timedelta(days=1)
    return [start + timedelta(hours=h) for h in range(int((end - start) / timedelta(hours=1)))]


def answer(params, hourly, *, units=None, latitude=40.78, longitude=-73.97):
    return {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 0.61,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": float(params["elevation"]),
        "hourly_units": units or {"time": "unixtime", **dict.fromkeys(hourly, "°F")},
        "hourly": {"time": [int(t.timestamp()) for t in hours(params)], **hourly},
    }


class FakeOpenMeteo:
    def __init__(self, *, members=31, suffix="", status=None, tweak=None):
        self.members = members
        self.suffix = suffix
        self.status = status or {}
        self.tweak = tweak
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        params = dict(request.url.params)
        model = params["models"]
        if model in self.status:
            reason = f"Cannot initialize MultiDomains from invalid String value {model}"
            return httpx.Response(self.status[model], json={"error": True, "reason": reason})
        times = hours(params)
        if request.url.host == "ensemble-api.open-meteo.com":
            hourly = {
                f"temperature_2m{'' if m == 0 else f'_member{m:02d}'}{self.suffix}": [
                    temperature(t, m / 10) for t in times
                ]
                for m in range(self.members)
            }
        else:
            hourly = {"temperature_2m": [temperature(t, MODEL_BIAS[model]) for t in times]}
        payload = answer(params, hourly)
        if self.tweak:
            self.tweak(payload, model)
        return httpx.Response(200, json=payload)


def deterministic(fake, **kwargs):
    return OpenMeteoSource(transport=httpx.MockTransport(fake), **kwargs)


def ensemble(fake, **kwargs):
    return OpenMeteoEnsembleSource(transport=httpx.MockTransport(fake), **kwargs)


def test_it_asks_each_model_for_fahrenheit_at_the_station_coordinates_and_elevation():
    fake = FakeOpenMeteo()
    deterministic(fake).fetch(NYC, [JULY_4, JULY_5], now=NOW)
    assert [r.url.params["models"] for r in fake.requests] == list(MODEL_BIAS)
    params = dict(fake.requests[0].url.params)
    assert fake.requests[0].url.host == "api.open-meteo.com"
    assert fake.requests[0].url.path == "/v1/forecast"
    assert params == {
        "latitude": "40.7789",
        "longitude": "-73.9692",
        "elevation": "39.6",
        "hourly": "temperature_2m",
        "models": "gfs_seamless",
        "temperature_unit": "fahrenheit",
        "timezone": "GMT",
        "timeformat": "unixtime",
        "start_date": "2025-07-04",  # 00:00 EST on the 4th is 05Z on the 4th
        "end_date": "2025-07-06",  # ... and the 5th's climate day ends 05Z on the 6th
    }


def test_it_gives_one_point_per_model_per_climate_date_with_the_max_inside_the_climate_day():
    result = deterministic(FakeOpenMeteo()).fetch(NYC, [JULY_4, JULY_5], now=NOW)
    points = {(p.model, p.target_date): p for p in result.points}
    assert len(points) == 8
    gfs_4, gfs_5 = points["gfs_seamless", JULY_4], points["gfs_seamless", JULY_5]
    assert gfs_4.high_f == 95.0  # the midnight-EDT spike belongs to the 4th
    assert gfs_5.high_f == 88.0
    assert points["icon_seamless", JULY_4].high_f == 96.5
    assert (gfs_4.n_hours, gfs_4.is_partial, gfs_4.issued_at, gfs_4.source) == (24, False, None, "open-meteo")
    assert result.rejected == () and result.failures == ()


def test_it_reads_iso_local_times_with_a_fixed_offset():
    def to_est(payload, model):
        payload["utc_offset_seconds"] = -18000
        payload["hourly_units"]["time"] = "iso8601"
        payload["hourly"]["time"] = [
            (datetime.fromtimestamp(t, UTC) - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
            for t in payload["hourly"]["time"]
        ]

    result = deterministic(FakeOpenMeteo(tweak=to_est), models=["gfs_seamless"]).fetch(NYC, [JULY_4], now=NOW)
    [point] = result.points
    assert (point.high_f, point.n_hours) == (95.0, 24)


def test_celsius_answers_are_converted():
    def to_celsius(payload, model):
        payload["hourly_units"]["temperature_2m"] = "°C"
        payload["hourly"]["temperature_2m"] = [round((f - 32) * 5 / 9, 2) for f in payload["hourly"]["temperature_2m"]]

    [point] = (
        deterministic(FakeOpenMeteo(tweak=to_celsius), models=["gfs_seamless"]).fetch(NYC, [JULY_5], now=NOW).points
    )
    assert point.high_f == pytest.approx(88.0, abs=0.01)


def test_nulls_past_the_horizon_make_a_partial_day_or_no_point():
    def horizon(payload, model):
        values = payload["hourly"]["temperature_2m"]  # hourly from 00Z on the 4th
        cut = 24 + 18  # nothing from 18Z on the 5th
        payload["hourly"]["temperature_2m"] = values[:cut] + [None] * (len(values) - cut)

    result = deterministic(FakeOpenMeteo(tweak=horizon), models=["gfs_seamless"]).fetch(
        NYC, [JULY_4, JULY_5, date(2025, 7, 6)], now=NOW
    )
    points = {p.target_date: p for p in result.points}
    assert points[JULY_4].n_hours == 24
    assert points[JULY_5].n_hours == 13 and points[JULY_5].is_partial
    assert date(2025, 7, 6) not in points


def test_the_ensemble_keeps_all_members():
    result = ensemble(FakeOpenMeteo(members=31)).fetch(NYC, [JULY_4, JULY_5], now=NOW)
    points = {(p.model, p.target_date): p for p in result.points}
    gefs = points["gfs05", JULY_5]
    assert len(gefs.members_high_f) == 31 and len(gefs.members_low_f) == 31
    assert gefs.members_high_f[0] == 88.0 and gefs.members_high_f[30] == 91.0
    assert gefs.high_f == pytest.approx(statistics.fmean(gefs.members_high_f))
    assert gefs.source == "open-meteo-ensemble" and gefs.is_ensemble and gefs.n_hours == 24
    assert points["ecmwf_ifs025", JULY_4].members_high_f[0] == 95.0


def test_suffixed_member_keys_are_read_too():
    result = ensemble(FakeOpenMeteo(members=51, suffix="_ecmwf_ifs025_ensemble"), models=["ecmwf_ifs025"]).fetch(
        NYC, [JULY_4], now=NOW
    )
    assert len(result.points[0].members_high_f) == 51


def test_one_short_member_flags_the_ensemble_day_partial():
    def shorten(payload, model):
        member = payload["hourly"]["temperature_2m_member07"]  # hourly from 00Z on the 5th
        member[26:29] = [None] * 3  # 02-04Z on the 6th: the last three hours of the 5th's climate day

    [point] = ensemble(FakeOpenMeteo(tweak=shorten), models=["gfs05"]).fetch(NYC, [JULY_5], now=NOW).points
    assert point.n_hours == 21 and point.is_partial
    assert len(point.members_high_f) == 31


def test_one_failing_model_keeps_the_others():
    fake = FakeOpenMeteo(status={"gem_seamless": 400})
    result = deterministic(fake).fetch(NYC, [JULY_4], now=NOW)
    assert {p.model for p in result.points} == {"gfs_seamless", "ecmwf_ifs025", "icon_seamless"}
    [failure] = result.failures
    assert isinstance(failure, SourceRequestError)
    assert "open-meteo gem_seamless KNYC: GET https://api.open-meteo.com/v1/forecast?" in str(failure)
    assert "answered 400 Bad Request: Cannot initialize MultiDomains" in str(failure)


def test_every_model_failing_raises():
    fake = FakeOpenMeteo(status=dict.fromkeys(MODEL_BIAS, 400))
    with pytest.raises(SourceRequestError, match="open-meteo gfs_seamless KNYC"):
        deterministic(fake).fetch(NYC, [JULY_4], now=NOW)


def test_an_answer_for_another_place_is_the_wrong_location():
    def elsewhere(payload, model):
        payload["latitude"], payload["longitude"] = 41.79, -87.75  # Chicago

    fake = FakeOpenMeteo(tweak=elsewhere)
    with pytest.raises(WrongLocationError, match=r"open-meteo gfs_seamless KNYC: answered for 41\.7900,-87\.7500"):
        deterministic(fake, models=["gfs_seamless"]).fetch(NYC, [JULY_4], now=NOW)


def test_an_ignored_elevation_is_the_wrong_location():
    def terrain(payload, model):
        payload["elevation"] = 112.0

    with pytest.raises(WrongLocationError, match="forecast for elevation 112 m, not the station's 40 m"):
        deterministic(FakeOpenMeteo(tweak=terrain), models=["gfs_seamless"]).fetch(NYC, [JULY_4], now=NOW)


def test_a_series_of_the_wrong_length_is_a_bad_payload():
    def truncate(payload, model):
        payload["hourly"]["temperature_2m"] = payload["hourly"]["temperature_2m"][:10]

    with pytest.raises(BadPayloadError, match=r"hourly.temperature_2m: 10 values for 48 times"):
        deterministic(FakeOpenMeteo(tweak=truncate), models=["gfs_seamless"]).fetch(NYC, [JULY_4], now=NOW)


def test_an_absurd_value_is_rejected_with_its_reason():
    def kelvin_by_mistake(payload, model):
        payload["hourly"]["temperature_2m"] = [v + 273.15 for v in payload["hourly"]["temperature_2m"]]

    result = deterministic(FakeOpenMeteo(tweak=kelvin_by_mistake), models=["gfs_seamless"]).fetch(
        NYC, [JULY_4], now=NOW
    )
    assert result.points == ()
    assert "high_f 368.1 °F is outside the plausible" in result.rejected[0].reason


def test_commercial_hosts_get_the_key_in_the_query_and_nowhere_else():
    fake = FakeOpenMeteo(status={"icon_seamless": 401})
    key = "om-commercial-0123456789"
    source = deterministic(fake, url="https://customer-api.open-meteo.com/v1/forecast", api_key=key)
    result = source.fetch(NYC, [JULY_4], now=NOW)
    assert {r.url.host for r in fake.requests} == {"customer-api.open-meteo.com"}
    assert all(r.url.params["apikey"] == key for r in fake.requests)
    assert key not in str(result.failures[0])
    assert key not in repr(source)


def test_model_names_are_checked():
    with pytest.raises(ValueError, match="lower-case words"):
        OpenMeteoSource(models=["gfs_seamless&apikey=x"])
