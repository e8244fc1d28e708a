from __future__ import annotations

import logging
import traceback
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from kalshiweb.logconfig import REDACTED
from weather.sources.base import (
    SourceDisabledError,
    SourceError,
    SourceRequestError,
    SourceUnavailableError,
    Station,
    WrongLocationError,
)
from weather.sources.visual_crossing import VisualCrossingSource

KEY = "VCKEY9Q2ZL7XW4M8T1R6B3N5P"
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


def temperature(at):
    if at == SPIKE:
        return 94.3
    return round(73.0 + 15.0 * max(0.0, 1 - abs(at.hour - 19) / 10), 1)


def timeline(first, last, *, stats_from=None, latitude=40.7789, longitude=-73.9692):
    """A Timeline answer with include=hours and timezone=Z: days of 24 UTC hours."""
    days = []
    day = first
    while day <= last:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        hours = []
        for h in range(24):
            at = start + timedelta(hours=h)
            source = "stats" if stats_from and day >= stats_from else ("obs" if at < NOW else "fcst")
            hours.append(
                {
                    "datetime": f"{h:02d}:00:00",
                    "datetimeEpoch": int(at.timestamp()),
                    "temp": temperature(at),
                    "source": source,
                }
            )
        days.append(
            {
                "datetime": day.isoformat(),
                "datetimeEpoch": int(start.timestamp()),
                "tempmax": max(h["temp"] for h in hours),
                "tempmin": min(h["temp"] for h in hours),
                "source": "comb",
                "hours": hours,
            }
        )
        day += timedelta(days=1)
    return {
        "queryCost": len(days),
        "latitude": latitude,
        "longitude": longitude,
        "resolvedAddress": f"{latitude},{longitude}",
        "address": f"{latitude},{longitude}",
        "timezone": "UTC",
        "tzoffset": 0.0,
        "days": days,
    }


def assert_key_absent(texts):
    # The project's log handlers scrub registered secrets in place before caplog sees a
    # record, so a leak would show up here as the redaction marker rather than the key.
    for text in texts:
        assert KEY not in text
        assert REDACTED not in text


class FakeVisualCrossing:
    def __init__(self, respond=None):
        self.requests = []
        self.respond = respond

    def __call__(self, request):
        self.requests.append(request)
        if self.respond:
            return self.respond(request)
        *_, first, last = request.url.path.split("/")
        return httpx.Response(200, json=timeline(date.fromisoformat(first), date.fromisoformat(last)))

    def source(self, api_key=KEY):
        return VisualCrossingSource(api_key=api_key, transport=httpx.MockTransport(self))


def test_it_asks_for_hourly_us_units_in_utc_over_padded_dates():
    fake = FakeVisualCrossing()
    fake.source().fetch(NYC, [JULY_5, JULY_4], now=NOW)
    [request] = fake.requests
    assert request.url.host == "weather.visualcrossing.com"
    assert request.url.path == (
        "/VisualCrossingWebServices/rest/services/timeline/40.7789,-73.9692/2025-07-03/2025-07-06"
    )
    assert dict(request.url.params) == {
        "unitGroup": "us",
        "include": "hours",
        "elements": "datetime,datetimeEpoch,temp,source",
        "timezone": "Z",
        "contentType": "json",
        "key": KEY,
    }


def test_it_takes_the_max_inside_the_climate_day():
    result = FakeVisualCrossing().source().fetch(NYC, [JULY_4, JULY_5], now=NOW)
    points = {p.target_date: p for p in result.points}
    assert points[JULY_4].high_f == 94.3  # the midnight-EDT hour of the 5th belongs to the 4th
    assert points[JULY_5].high_f == 88.0
    assert points[JULY_4].low_f == 73.0
    assert {(p.source, p.model, p.n_hours, p.issued_at) for p in result.points} == {
        ("visual-crossing", "timeline", 24, None)
    }


def test_statistical_hours_past_the_horizon_are_not_forecasts():
    far = date(2025, 7, 20)

    def with_stats(request):
        return httpx.Response(200, json=timeline(date(2025, 7, 18), date(2025, 7, 21), stats_from=date(2025, 7, 20)))

    result = FakeVisualCrossing(with_stats).source().fetch(NYC, [date(2025, 7, 19), far], now=NOW)
    points = {p.target_date: p for p in result.points}
    assert far not in points
    assert points[date(2025, 7, 19)].n_hours == 19  # its last 5 hours (00-04Z on the 20th) are statistics
    assert points[date(2025, 7, 19)].is_partial


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_source_without_a_key_is_disabled_and_makes_no_request(key):
    fake = FakeVisualCrossing()
    source = fake.source(api_key=key)
    assert source.enabled is False
    with pytest.raises(SourceDisabledError, match="visual-crossing: disabled, no API key configured"):
        source.fetch(NYC, [JULY_4], now=NOW)
    assert fake.requests == []


def test_an_answer_for_another_place_is_the_wrong_location():
    fake = FakeVisualCrossing(
        lambda r: httpx.Response(200, json=timeline(JULY_4, JULY_5, latitude=34.0, longitude=-118.4))
    )
    with pytest.raises(WrongLocationError, match=r"visual-crossing KNYC: answered for 34\.0000,-118\.4000"):
        fake.source().fetch(NYC, [JULY_4], now=NOW)


def _unauthorized(request):
    return httpx.Response(401, text=f"No account found with API key '{KEY}'")


def _server_error(request):
    return httpx.Response(500, text=f"Internal error for {request.url}")


def _timeout(request):
    raise httpx.ReadTimeout(f"timed out reading {request.url}", request=request)


def _refused(request):
    raise httpx.ConnectError(f"cannot connect for {request.url}", request=request)


def _garbage(request):
    return httpx.Response(200, text=f"<html>bad gateway page for {request.url}</html>")


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (_unauthorized, SourceRequestError),
        (_server_error, SourceUnavailableError),
        (_timeout, SourceUnavailableError),
        (_refused, SourceUnavailableError),
        (_garbage, SourceError),
    ],
    ids=["401-echoing-key", "500-echoing-url", "timeout", "refused", "not-json"],
)
def test_the_key_never_appears_in_exceptions_logs_or_reprs(caplog, respond, error):
    for name in ("httpx", "httpcore", "weather", "caller"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake = FakeVisualCrossing(respond)
    source = fake.source()
    with pytest.raises(error) as caught:
        source.fetch(NYC, [JULY_4], now=NOW)
    try:
        raise caught.value
    except SourceError:
        logging.getLogger("caller").exception("visual crossing fetch failed")
    assert fake.requests[0].url.params["key"] == KEY  # it was sent
    exc = caught.value
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(source), caplog.text]
    shown += [record.getMessage() for record in caplog.records]
    assert_key_absent(shown)
    assert "visual-crossing KNYC: GET https://weather.visualcrossing.com/" in str(exc)


def test_the_key_stays_out_of_the_logs_of_a_successful_fetch(caplog):
    for name in ("httpx", "httpcore", "weather"):
        caplog.set_level(logging.DEBUG, logger=name)
    source = FakeVisualCrossing().source()
    source.fetch(NYC, [JULY_4], now=NOW)
    assert any("HTTP Request: GET https://weather.visualcrossing.com/" in r.getMessage() for r in caplog.records)
    assert_key_absent([caplog.text, repr(source), *(r.getMessage() for r in caplog.records)])
