"""Visual Crossing Timeline API: a commercial, keyed hourly forecast.

Why Visual Crossing rather than Tomorrow.io: the Timeline API takes an
explicit date range, so we ask for exactly the days around the climate days
we need (and pay per day asked); its hourly forecast reaches 15 days where
Tomorrow.io's hourly timeline stops after a few; every hour carries a Unix
``datetimeEpoch`` (no guessing about daylight time) and can be asked for in
UTC; and every hour says where it came from (``source``: obs, fcst, or
``stats`` for statistical climate estimates past the forecast horizon, which
are not forecasts and are dropped here).

The key is a constructor argument (the caller decrypts it from the admin). It
travels as the ``key`` query parameter, so it is added below the HTTP client
(see http.QueryKeyTransport) and scrubbed from every message: it never
appears in a log line, an exception or a repr. (The caller that decrypts the
key should also pass it to kalshiweb.logconfig.register_secret, as
markets.credentials does, so the log handlers scrub it as a last line of
defence; this module stays free of project imports.) Without a key the source
is disabled and makes no request.

Visual Crossing does not echo units; we ask for ``unitGroup=us`` (°F). It
does not say which model run it served, so issued_at is None.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import httpx

from weather.sources.base import (
    DEFAULT_MAX_RUN_AGE,
    FetchResult,
    Sample,
    SourceDisabledError,
    Station,
    daily_extremes,
    forecast_points,
    require_near,
    screen,
    wanted_dates,
)
from weather.sources.http import DEFAULT_TIMEOUT_S, get_json, make_client
from weather.sources.payload import (
    as_coordinates,
    as_epoch,
    as_list,
    as_number,
    as_object,
    require,
)

logger = logging.getLogger(__name__)

TIMELINE_URL = "https://weather.visualcrossing.com/VisualCrossingWebServices/rest/services/timeline"
SOURCE = "visual-crossing"
MODEL = "timeline"
# We ask for "lat,lon", so the answer should be for that point; allow for rounding.
DEFAULT_MAX_DISTANCE_KM = 25.0
# Hour sources that are not forecasts or observations: climatology past the 15-day horizon.
_NOT_FORECASTS = frozenset({"stats"})


def hourly_samples(payload: object, station: Station, *, max_km: float, where: str) -> list[Sample]:
    """The °F hourly values of a Timeline answer (``include=hours``), statistical hours left out."""
    obj = as_object(payload, where)
    require_near(station, *as_coordinates(obj, where), max_km=max_km, where=where)
    samples: list[Sample] = []
    for i, raw_day in enumerate(as_list(require(obj, "days", where), f"{where}.days")):
        day_where = f"{where}.days[{i}]"
        day = as_object(raw_day, day_where)
        for j, raw_hour in enumerate(as_list(day.get("hours") or [], f"{day_where}.hours")):
            hour_where = f"{day_where}.hours[{j}]"
            hour = as_object(raw_hour, hour_where)
            if hour.get("source") in _NOT_FORECASTS:
                continue
            at = as_epoch(require(hour, "datetimeEpoch", hour_where), f"{hour_where}.datetimeEpoch")
            samples.append((at, as_number(hour.get("temp"), f"{hour_where}.temp")))
    return samples


def request_params() -> dict[str, str]:
    return {
        "unitGroup": "us",
        "include": "hours",
        "elements": "datetime,datetimeEpoch,temp,source",
        "timezone": "Z",
        "contentType": "json",
    }


def request_path(station: Station, days: Sequence[date]) -> str:
    """``/lat,lon/date1/date2``, padded a day each side.

    Visual Crossing reads dates in the location's local time; a climate day
    (local standard time) overlaps two of them, and a day of padding covers
    any offset. Hours outside the climate days are dropped later.
    """
    first = days[0] - timedelta(days=1)
    last = days[-1] + timedelta(days=1)
    return f"/{station.latitude:.4f},{station.longitude:.4f}/{first.isoformat()}/{last.isoformat()}"


class VisualCrossingSource:
    """Visual Crossing's hourly forecast at the station's coordinates (model ``timeline``)."""

    def __init__(
        self,
        *,
        api_key: str | None,
        url: str = TIMELINE_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
    ) -> None:
        key = (api_key or "").strip()
        self._url = url.rstrip("/")
        self._max_distance_km = max_distance_km
        self._secrets: tuple[str, ...] = (key,) if key else ()
        self._client: httpx.Client | None = None
        if key:
            self._client = make_client(transport=transport, timeout=timeout, query_key=("key", key))

    @property
    def name(self) -> str:
        return SOURCE

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        if self._client is None:
            raise SourceDisabledError(f"{SOURCE}: disabled, no API key configured")
        days = wanted_dates(dates)
        where = f"{SOURCE} {station.icao}"
        url = self._url + request_path(station, days)
        payload = get_json(self._client, url, where=where, params=request_params(), secrets=self._secrets)
        samples = hourly_samples(payload, station, max_km=self._max_distance_km, where=where)
        extremes = daily_extremes(samples, days, station.standard_utc_offset_minutes)
        points = forecast_points(extremes, source=SOURCE, model=MODEL, station=station, issued_at=None, fetched_at=now)
        logger.debug("%s: %d hourly values, %d forecast days", where, len(samples), len(points))
        return screen(points, now=now, max_run_age=DEFAULT_MAX_RUN_AGE)

    def __repr__(self) -> str:
        return f"VisualCrossingSource(enabled={self.enabled}, url={self._url!r})"
