from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from weather.sources.base import BadPayloadError, SourceUnavailableError, Station, WrongLocationError
from weather.sources.station_obs import StationObservations, running_extremes

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 7, 4, 19, tzinfo=UTC)  # 15:00 EDT
NYC = Station(
    icao="KNYC",
    latitude=40.7789,
    longitude=-73.9692,
    elevation_m=39.6,
    standard_utc_offset_minutes=-300,
    timezone="America/New_York",
)


def observations():
    return json.loads((FIXTURES / "nws_observations_knyc.json").read_text())


def f(celsius):
    return celsius * 9 / 5 + 32


def test_it_keeps_the_running_max_inside_the_climate_day_up_to_now():
    running = running_extremes(observations(), NYC, now=NOW)
    # 33.9 °C came after `now`; 33.3 °C at 00:51 EDT belongs to the previous climate day (23:51 EST on the 3rd).
    assert running.max_f == pytest.approx(f(32.2))
    assert running.min_f == pytest.approx(f(22.8))
    assert running.climate_date == date(2025, 7, 4)
    assert running.latest_at == datetime(2025, 7, 4, 18, 51, tzinfo=UTC)
    assert running.as_of == NOW
    assert running.station == "KNYC"


def test_it_ignores_null_and_quality_flagged_values():
    running = running_extremes(observations(), NYC, now=NOW)
    assert running.n_observations == 5
    assert running.n_ignored == 2  # a null and a 41.0 °C reading flagged X (rejected by MADIS)


def test_an_absurd_unflagged_value_is_ignored_too():
    payload = observations()
    payload["features"][2]["properties"]["temperature"] = {
        "unitCode": "wmoUnit:degF",
        "value": 210,
        "qualityControl": "Z",
    }
    running = running_extremes(payload, NYC, now=NOW)
    assert running.max_f == pytest.approx(f(31.7))
    assert running.n_ignored == 3


def test_before_the_first_observation_of_the_day_nothing_is_known():
    just_after_midnight = datetime(2025, 7, 4, 5, 10, tzinfo=UTC)  # 01:10 EDT = 00:10 EST
    running = running_extremes(observations(), NYC, now=just_after_midnight)
    assert (running.max_f, running.min_f, running.n_observations, running.latest_at) == (None, None, 0, None)


def test_observations_from_another_station_are_refused():
    payload = observations()
    payload["features"][3]["properties"] |= {"station": "https://api.weather.gov/stations/KLGA", "stationId": "KLGA"}
    with pytest.raises(WrongLocationError, match=r"features\[3\]: observation from KLGA, asked for KNYC"):
        running_extremes(payload, NYC, now=NOW)


def test_an_observation_without_a_time_is_a_bad_payload():
    payload = observations()
    del payload["features"][1]["properties"]["timestamp"]
    with pytest.raises(BadPayloadError, match=r"features\[1\]: missing field 'timestamp'"):
        running_extremes(payload, NYC, now=NOW)


def test_the_client_asks_for_the_climate_day_so_far():
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, json=observations())

    client = StationObservations(
        app_name="kalshiweb", contact="ops@example.com", transport=httpx.MockTransport(handler)
    )
    running = client.running_extremes(NYC, now=NOW)
    [request] = requests
    assert request.url.path == "/stations/KNYC/observations"
    assert dict(request.url.params) == {"start": "2025-07-04T05:00:00Z", "end": "2025-07-04T19:00:00Z", "limit": "500"}
    assert request.headers["User-Agent"] == "(kalshiweb, ops@example.com)"
    assert running.max_f == pytest.approx(f(32.2))


def test_an_unreachable_api_raises_unavailable():
    def handler(request):
        raise httpx.ConnectTimeout("connect timed out", request=request)

    client = StationObservations(
        app_name="kalshiweb", contact="ops@example.com", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(SourceUnavailableError, match=r"nws observations KNYC: GET .* timed out"):
        client.running_extremes(NYC, now=NOW)
