"""api.weather.gov forecasts: the NWS gridpoint hourly and 12-hour forecasts at a station.

Flow: GET /points/{lat},{lon} names the forecast office and grid cell (and the
point's time zone, which must agree with the station's standard offset, or
the climate day would be computed on the wrong clock); then
/gridpoints/{office}/{x},{y}/forecast/hourly and .../forecast.

- ``hourly``: the day's high/low are the max/min of the hourly values inside
  the *climate* day (local standard time), not the calendar day. The hourly
  forecast starts at the current hour, so today is partial (n_hours < 24) and
  must be combined with the observed running maximum by the caller.
- ``12h``: the forecaster's day/night periods. The high is the daytime period
  whose middle falls on the climate day; the low is the night period that ends
  on it (the morning low). n_hours is how much of the climate day the periods
  used cover, so a day whose daytime period has passed is flagged partial.

issued_at is ``updateTime`` (the time of the grid data the forecast was made
from), else ``generatedAt``. The API requires a User-Agent naming the app and
a contact, so NWS can reach us instead of blocking us.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx

from weather.climate import zone_standard_offset_minutes
from weather.sources.base import (
    DEFAULT_MAX_RUN_AGE,
    HOURS_PER_CLIMATE_DAY,
    BadPayloadError,
    FetchResult,
    ForecastPoint,
    Station,
    WrongLocationError,
    clamp_issued_at,
    daily_extremes,
    forecast_points,
    gather,
    require_fresh,
    require_near,
    screen,
    to_fahrenheit,
    wanted_dates,
)
from weather.sources.http import DEFAULT_TIMEOUT_S, get_json, make_client
from weather.sources.payload import (
    as_instant,
    as_list,
    as_number,
    as_object,
    as_text,
    require,
)

logger = logging.getLogger(__name__)

NWS_API = "https://api.weather.gov"
SOURCE = "nws"
HOURLY_MODEL = "hourly"
PERIOD_MODEL = "12h"
# A grid cell is 2.5 km across: its centre is within ~2 km of any point in it.
DEFAULT_MAX_DISTANCE_KM = 5.0
_OFFICE = re.compile(r"^[A-Z]{3}$")


def user_agent(app_name: str, contact: str) -> str:
    """The User-Agent api.weather.gov asks for: "(app, contact)"."""
    if not app_name.strip() or not contact.strip():
        raise ValueError("api.weather.gov needs a User-Agent with an app name and a contact (e-mail or URL)")
    return f"({app_name.strip()}, {contact.strip()})"


def nws_client(
    *, app_name: str, contact: str, transport: httpx.BaseTransport | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> httpx.Client:
    """An httpx client for api.weather.gov, shared by the forecast, observation and CLI adapters."""
    headers = {"User-Agent": user_agent(app_name, contact), "Accept": "application/geo+json"}
    return make_client(transport=transport, timeout=timeout, headers=headers)


@dataclass(frozen=True)
class GridPoint:
    office: str
    x: int
    y: int
    time_zone: str


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    is_daytime: bool
    temperature_f: float | None


@dataclass(frozen=True)
class GridForecast:
    issued_at: datetime | None
    periods: tuple[Period, ...]
    centre: tuple[float, float] | None  # (lat, lon) of the grid cell, when the payload has its polygon


def parse_point(payload: object, station: Station, *, where: str) -> GridPoint:
    """The grid cell of a /points answer, checked against the station's standard time offset."""
    props = as_object(require(as_object(payload, where), "properties", where), f"{where}.properties")
    office = as_text(require(props, "gridId", where), f"{where}.gridId")
    x, y = (as_number(require(props, k, where), f"{where}.{k}") for k in ("gridX", "gridY"))
    if not _OFFICE.match(office) or x is None or y is None or not (x.is_integer() and y.is_integer()):
        raise BadPayloadError(f"{where}: grid {office!r} {x!r},{y!r} is not an office id and integer cell")
    zone = as_text(require(props, "timeZone", where), f"{where}.timeZone")
    try:
        offset = zone_standard_offset_minutes(zone)
    except ValueError as exc:
        raise BadPayloadError(f"{where}: {exc}") from None
    if offset != station.standard_utc_offset_minutes:
        raise WrongLocationError(
            f"{where}: the point is in {zone} (standard offset {offset} min) but {station.icao} is configured "
            f"with {station.standard_utc_offset_minutes} min; wrong coordinates or wrong offset"
        )
    grid = GridPoint(office, int(x), int(y), zone)
    configured = (station.nws_grid_office, station.nws_grid_x, station.nws_grid_y)
    if station.nws_grid_office and configured != (grid.office, grid.x, grid.y):
        # NWS re-grids occasionally; /points is the authority for these coordinates.
        logger.warning(
            "%s: /points gives grid %s/%s,%s, the station is configured with %s/%s,%s; using /points",
            where,
            grid.office,
            grid.x,
            grid.y,
            *configured,
        )
    return grid


def parse_forecast(payload: object, *, where: str) -> GridForecast:
    """An hourly or 12-hour gridpoint forecast: its run time, periods (°F) and cell centre."""
    feature = as_object(payload, where)
    props = as_object(require(feature, "properties", where), f"{where}.properties")
    issued_at = None
    for key in ("updateTime", "generatedAt"):
        if props.get(key) is not None:
            issued_at = as_instant(props[key], f"{where}.{key}")
            break
    rows = as_list(require(props, "periods", where), f"{where}.periods")
    periods = tuple(
        _period(as_object(row, f"{where}.periods[{i}]"), f"{where}.periods[{i}]") for i, row in enumerate(rows)
    )
    return GridForecast(issued_at, periods, _centre(feature.get("geometry"), f"{where}.geometry"))


def _period(row: Mapping[str, object], where: str) -> Period:
    start = as_instant(require(row, "startTime", where), f"{where}.startTime")
    end = as_instant(require(row, "endTime", where), f"{where}.endTime")
    if end <= start:
        raise BadPayloadError(f"{where}: endTime {end.isoformat()} is not after startTime {start.isoformat()}")
    daytime = row.get("isDaytime")
    if not isinstance(daytime, bool):
        raise BadPayloadError(f"{where}.isDaytime: expected true or false, got {daytime!r}")
    return Period(start, end, daytime, _temperature(row, where))


def _temperature(row: Mapping[str, object], where: str) -> float | None:
    raw = require(row, "temperature", where)
    if isinstance(raw, Mapping):  # QuantitativeValue, the format behind the forecast_temperature_qv flag
        value = as_number(raw.get("value"), f"{where}.temperature.value")
        unit = as_text(require(raw, "unitCode", f"{where}.temperature"), f"{where}.temperature.unitCode")
    else:
        value = as_number(raw, f"{where}.temperature")
        unit = as_text(require(row, "temperatureUnit", where), f"{where}.temperatureUnit")
    return None if value is None else to_fahrenheit(value, unit, where=f"{where}.temperature")


def _centre(geometry: object, where: str) -> tuple[float, float] | None:
    """Mean vertex of the grid cell polygon, or None when the payload has no polygon."""
    if isinstance(geometry, Mapping) and geometry.get("type") == "GeometryCollection":
        # Older API versions wrap the cell in a collection with a point.
        parts = geometry.get("geometries")
        polygons = (
            [g for g in parts if isinstance(g, Mapping) and g.get("type") == "Polygon"]
            if isinstance(parts, list)
            else []
        )
        geometry = polygons[0] if polygons else None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Polygon":
        return None
    rings = as_list(require(geometry, "coordinates", where), f"{where}.coordinates")
    ring = as_list(rings[0], f"{where}.coordinates[0]") if rings else []
    vertices = [as_list(v, f"{where}.coordinates[0][{i}]") for i, v in enumerate(ring)]
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        vertices = vertices[:-1]  # GeoJSON rings repeat their first vertex
    if not vertices or any(len(v) < 2 for v in vertices):
        raise BadPayloadError(f"{where}: the grid cell polygon has no usable vertices")
    lats = [_coordinate(v[1], where) for v in vertices]
    lons = [_coordinate(v[0], where) for v in vertices]
    return sum(lats) / len(lats), sum(lons) / len(lons)


def _coordinate(value: object, where: str) -> float:
    number = as_number(value, where)
    if number is None:
        raise BadPayloadError(f"{where}: a polygon vertex has a null coordinate")
    return number


def hourly_points(
    forecast: GridForecast, station: Station, days: Sequence[date], *, issued_at: datetime | None, fetched_at: datetime
) -> list[ForecastPoint]:
    """Max/min of the hourly values inside each climate day."""
    samples = [(p.start, p.temperature_f) for p in forecast.periods]
    extremes = daily_extremes(samples, days, station.standard_utc_offset_minutes)
    return forecast_points(
        extremes, source=SOURCE, model=HOURLY_MODEL, station=station, issued_at=issued_at, fetched_at=fetched_at
    )


def period_points(
    forecast: GridForecast, station: Station, days: Sequence[date], *, issued_at: datetime | None, fetched_at: datetime
) -> list[ForecastPoint]:
    """The daytime high and the morning low of each climate day, from the 12-hour periods."""
    known = [(p, t) for p in forecast.periods if (t := p.temperature_f) is not None]
    points = []
    for day in days:
        start, end = station.climate_window(day)
        highs = [t for p, t in known if p.is_daytime and station.climate_date(_middle(p)) == day]
        lows = [t for p, t in known if not p.is_daytime and station.climate_date(_last_instant(p)) == day]
        if not highs and not lows:
            continue
        overlaps = (min(p.end, end) - max(p.start, start) for p, _ in known if p.start < end and p.end > start)
        covered = sum(overlaps, timedelta())
        points.append(
            ForecastPoint(
                source=SOURCE,
                model=PERIOD_MODEL,
                station=station.icao,
                target_date=day,
                issued_at=issued_at,
                fetched_at=fetched_at,
                high_f=max(highs, default=None),
                low_f=min(lows, default=None),
                n_hours=min(HOURS_PER_CLIMATE_DAY, int(covered // timedelta(hours=1))),
            )
        )
    return points


def _middle(period: Period) -> datetime:
    return period.start + (period.end - period.start) / 2


def _last_instant(period: Period) -> datetime:
    return period.end - timedelta(seconds=1)


class NwsSource:
    """The NWS hourly (model ``hourly``) and 12-hour (model ``12h``) gridpoint forecasts."""

    def __init__(
        self,
        *,
        app_name: str,
        contact: str,
        base_url: str = NWS_API,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_run_age: timedelta = DEFAULT_MAX_RUN_AGE,
        max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
    ) -> None:
        self._client = nws_client(app_name=app_name, contact=contact, transport=transport, timeout=timeout)
        self._base_url = base_url.rstrip("/")
        self._max_run_age = max_run_age
        self._max_distance_km = max_distance_km

    @property
    def name(self) -> str:
        return SOURCE

    @property
    def enabled(self) -> bool:
        return True

    def close(self) -> None:
        self._client.close()

    def grid_point(self, station: Station) -> GridPoint:
        """The forecast office and grid cell for the station's coordinates (4 decimals, as NWS wants)."""
        where = f"nws points {station.icao}"
        url = f"{self._base_url}/points/{station.latitude:.4f},{station.longitude:.4f}"
        return parse_point(get_json(self._client, url, where=where), station, where=where)

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        days = wanted_dates(dates)
        grid = self.grid_point(station)
        cell = f"{self._base_url}/gridpoints/{grid.office}/{grid.x},{grid.y}"
        points, failures = gather(
            [
                lambda: self._product(f"{cell}/forecast/hourly", HOURLY_MODEL, station, days, now=now),
                lambda: self._product(f"{cell}/forecast", PERIOD_MODEL, station, days, now=now),
            ]
        )
        return screen(points, now=now, max_run_age=self._max_run_age, failures=failures)

    def _product(
        self, url: str, model: str, station: Station, days: Sequence[date], *, now: datetime
    ) -> list[ForecastPoint]:
        where = f"nws {model} {station.icao}"
        forecast = parse_forecast(get_json(self._client, url, where=where), where=where)
        require_fresh(forecast.issued_at, now=now, max_age=self._max_run_age, where=where)
        if forecast.centre is not None:
            require_near(station, *forecast.centre, max_km=self._max_distance_km, where=where)
        issued_at = clamp_issued_at(forecast.issued_at, fetched_at=now)
        build = hourly_points if model == HOURLY_MODEL else period_points
        return build(forecast, station, days, issued_at=issued_at, fetched_at=now)

    def __repr__(self) -> str:
        return f"NwsSource(base_url={self._base_url!r})"
