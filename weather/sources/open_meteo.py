"""Open-Meteo: deterministic models (forecast API) and every member of ensembles (ensemble API).

Each model is asked for separately (``models=<one>``): one failing model
(unknown name, past its horizon, a 5xx) does not discard the others, and the
answer's keys are then unambiguous. With several models in one request
Open-Meteo suffixes keys with its own canonical model name, which is not
always the name asked for (ask for ``gfs025`` ensembles, get
``..._ncep_gefs025``).

Requests ask for hourly ``temperature_2m`` in °F at the station's latitude,
longitude *and elevation* (Open-Meteo corrects the model's terrain height to
it, which matters for a station in a valley or on a coast), with Unix-time
stamps in UTC; the climate day is then cut by base.daily_extremes. The free
hosts are for non-commercial use: commercial customers pass their own base
URLs and an ``apikey``, which is added below the HTTP client so it never
reaches a log line.

Open-Meteo does not say which run a forecast comes from, so issued_at is None.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

import httpx

from weather.sources.base import (
    DEFAULT_MAX_RUN_AGE,
    BadPayloadError,
    DailyExtremes,
    FetchResult,
    ForecastPoint,
    Sample,
    Station,
    WrongLocationError,
    daily_extremes,
    forecast_points,
    gather,
    require_near,
    screen,
    to_fahrenheit,
    wanted_dates,
)
from weather.sources.http import DEFAULT_TIMEOUT_S, get_json, make_client
from weather.sources.payload import (
    as_coordinates,
    as_epoch,
    as_list,
    as_number,
    as_object,
    as_text,
    require,
)

FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
ENSEMBLE_URL = "https://ensemble-api.open-meteo.com/v1/ensemble"
SOURCE = "open-meteo"
ENSEMBLE_SOURCE = "open-meteo-ensemble"
DEFAULT_MODELS = ("gfs_seamless", "ecmwf_ifs025", "icon_seamless", "gem_seamless")
DEFAULT_ENSEMBLE_MODELS = ("gfs05", "ecmwf_ifs025")
# Open-Meteo answers with the centre of the model cell it used; a 0.5° ensemble
# cell centre can be ~40 km away. Hundreds of km means swapped or wrong coordinates.
DEFAULT_MAX_DISTANCE_KM = 60.0
# The answer echoes the elevation it downscaled to; anything else means ours was ignored.
MAX_ELEVATION_MISMATCH_M = 10.0
_MODEL_NAME = re.compile(r"^[a-z0-9_]+$")
_VARIABLE = "temperature_2m"
# "temperature_2m" (control), "temperature_2m_member07", optionally "_<canonical model>" after either.
_MEMBER_KEY = re.compile(r"^temperature_2m(?:_member(\d+))?(?:_(?!member)[a-z0-9_]+)?$")


@dataclass(frozen=True)
class HourlyAnswer:
    """The parts of a forecast or ensemble answer we use, temperatures already in °F."""

    latitude: float
    longitude: float
    elevation_m: float | None
    times: tuple[datetime, ...]
    series: Mapping[str, tuple[float | None, ...]]


def parse_answer(payload: object, *, where: str) -> HourlyAnswer:
    """Coordinates, UTC hours and every hourly series of an Open-Meteo answer."""
    obj = as_object(payload, where)
    if obj.get("error") is True:
        raise BadPayloadError(f"{where}: Open-Meteo error: {obj.get('reason')!r}")
    lat, lon = as_coordinates(obj, where)
    hourly = as_object(require(obj, "hourly", where), f"{where}.hourly")
    units = as_object(obj.get("hourly_units") or {}, f"{where}.hourly_units")
    offset = timedelta(seconds=as_number(obj.get("utc_offset_seconds", 0), f"{where}.utc_offset_seconds") or 0)
    raw_times = as_list(require(hourly, "time", f"{where}.hourly"), f"{where}.hourly.time")
    times = tuple(_instant(t, offset, f"{where}.hourly.time[{i}]") for i, t in enumerate(raw_times))
    series = {}
    for key, raw in hourly.items():
        if key == "time":
            continue
        values = as_list(raw, f"{where}.hourly.{key}")
        if len(values) != len(times):
            raise BadPayloadError(f"{where}.hourly.{key}: {len(values)} values for {len(times)} times")
        unit = as_text(units.get(key, "°F"), f"{where}.hourly_units.{key}")
        series[key] = tuple(_fahrenheit(v, unit, f"{where}.hourly.{key}[{i}]") for i, v in enumerate(values))
    elevation = as_number(obj.get("elevation"), f"{where}.elevation")
    return HourlyAnswer(lat, lon, elevation, times, series)


def _instant(value: object, offset: timedelta, where: str) -> datetime:
    """A Unix time (timeformat=unixtime), or an ISO local time shifted by utc_offset_seconds."""
    if not isinstance(value, str):
        return as_epoch(value, where)
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise BadPayloadError(f"{where}: {value!r} is not an ISO 8601 time") from None
    if local.utcoffset() is not None:
        return local.astimezone(UTC)
    return (local - offset).replace(tzinfo=UTC)


def _fahrenheit(value: object, unit: str, where: str) -> float | None:
    number = as_number(value, where)
    return None if number is None else to_fahrenheit(number, unit, where=where)


def deterministic_series(answer: HourlyAnswer, model: str, *, where: str) -> list[Sample]:
    """The model's hourly series: ``temperature_2m``, or ``temperature_2m_<model>`` when suffixed."""
    for key in (_VARIABLE, f"{_VARIABLE}_{model}"):
        if key in answer.series:
            return list(zip(answer.times, answer.series[key], strict=True))
    raise BadPayloadError(f"{where}: no hourly {_VARIABLE} series for model {model!r}")


def member_series(answer: HourlyAnswer, *, where: str) -> dict[int, list[Sample]]:
    """Every ensemble member's hourly series by member number (0 = control), all of them kept."""
    members: dict[int, list[Sample]] = {}
    for key, values in answer.series.items():
        match = _MEMBER_KEY.match(key)
        if not match:
            continue
        number = int(match.group(1) or 0)
        if number in members:
            raise BadPayloadError(f"{where}: member {number} appears twice (key {key!r})")
        members[number] = list(zip(answer.times, values, strict=True))
    if not members:
        raise BadPayloadError(f"{where}: no {_VARIABLE} member series in the answer")
    return dict(sorted(members.items()))


def ensemble_points(
    members: Mapping[int, list[Sample]], station: Station, days: Sequence[date], *, model: str, fetched_at: datetime
) -> list[ForecastPoint]:
    """One point per climate day keeping every member's daily high and low.

    high_f/low_f are the means of the members' extremes (the mean of daily
    maxima, not the maximum of the mean series, which is smoothed and too low).
    n_hours is the smallest coverage of any member, so one short member flags
    the day partial.
    """
    offset = station.standard_utc_offset_minutes
    per_member = [daily_extremes(samples, days, offset) for samples in members.values()]
    points = []
    for day in days:
        dailies: list[DailyExtremes] = [extremes[day] for extremes in per_member]
        if not any(d.n_hours for d in dailies):
            continue
        highs = tuple(d.high_f for d in dailies if d.high_f is not None)
        lows = tuple(d.low_f for d in dailies if d.low_f is not None)
        points.append(
            ForecastPoint(
                source=ENSEMBLE_SOURCE,
                model=model,
                station=station.icao,
                target_date=day,
                issued_at=None,
                fetched_at=fetched_at,
                high_f=statistics.fmean(highs) if highs else None,
                low_f=statistics.fmean(lows) if lows else None,
                n_hours=min(d.n_hours for d in dailies),
                members_high_f=highs,
                members_low_f=lows,
            )
        )
    return points


def request_params(station: Station, days: Sequence[date], model: str) -> dict[str, str]:
    """Query parameters for one model over the UTC dates spanning the climate days."""
    first, _ = station.climate_window(days[0])
    _, last_end = station.climate_window(days[-1])
    return {
        "latitude": f"{station.latitude:.4f}",
        "longitude": f"{station.longitude:.4f}",
        "elevation": f"{station.elevation_m:.1f}",
        "hourly": _VARIABLE,
        "models": model,
        "temperature_unit": "fahrenheit",
        "timezone": "GMT",
        "timeformat": "unixtime",
        "start_date": first.date().isoformat(),
        "end_date": (last_end - timedelta(microseconds=1)).date().isoformat(),
    }


class OpenMeteoSource:
    """Deterministic models from the forecast API: one point per model per climate day.

    ``models`` defaults to GFS, ECMWF IFS, ICON and GEM; ``url`` to the free
    host (commercial plans: their customer host plus ``api_key``).
    """

    _source = SOURCE
    _default_models: tuple[str, ...] = DEFAULT_MODELS
    _default_url = FORECAST_URL

    def __init__(
        self,
        *,
        models: Sequence[str] | None = None,
        url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
    ) -> None:
        self.models = tuple(self._default_models if models is None else models)
        if not self.models or not all(_MODEL_NAME.match(m) for m in self.models):
            raise ValueError(f"Open-Meteo model names are lower-case words like gfs_seamless; got {self.models!r}")
        self._url = url or self._default_url
        self._secrets = (api_key,) if api_key else ()
        key = ("apikey", api_key) if api_key else None
        self._client = make_client(transport=transport, timeout=timeout, query_key=key)
        self._max_distance_km = max_distance_km

    @property
    def name(self) -> str:
        return self._source

    @property
    def enabled(self) -> bool:
        return True

    def close(self) -> None:
        self._client.close()

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        days = wanted_dates(dates)
        points, failures = gather([partial(self._model_points, m, station, days, now) for m in self.models])
        return screen(points, now=now, max_run_age=DEFAULT_MAX_RUN_AGE, failures=failures)

    def _model_points(self, model: str, station: Station, days: Sequence[date], now: datetime) -> list[ForecastPoint]:
        where = f"{self._source} {model} {station.icao}"
        series = deterministic_series(self._answer(model, station, days, where), model, where=where)
        extremes = daily_extremes(series, days, station.standard_utc_offset_minutes)
        return forecast_points(extremes, source=SOURCE, model=model, station=station, issued_at=None, fetched_at=now)

    def _answer(self, model: str, station: Station, days: Sequence[date], where: str) -> HourlyAnswer:
        params = request_params(station, days, model)
        payload = get_json(self._client, self._url, where=where, params=params, secrets=self._secrets)
        answer = parse_answer(payload, where=where)
        require_near(station, answer.latitude, answer.longitude, max_km=self._max_distance_km, where=where)
        if answer.elevation_m is not None and abs(answer.elevation_m - station.elevation_m) > MAX_ELEVATION_MISMATCH_M:
            raise WrongLocationError(
                f"{where}: forecast for elevation {answer.elevation_m:.0f} m, not the station's "
                f"{station.elevation_m:.0f} m"
            )
        return answer

    def __repr__(self) -> str:
        return f"{type(self).__name__}(models={self.models!r}, url={self._url!r}, keyed={bool(self._secrets)})"


class OpenMeteoEnsembleSource(OpenMeteoSource):
    """Ensembles from the ensemble API: one point per model per climate day, with every member.

    ``models`` defaults to the GFS (GEFS 0.5°, 31 members) and ECMWF IFS (51 members) ensembles.
    """

    _source = ENSEMBLE_SOURCE
    _default_models = DEFAULT_ENSEMBLE_MODELS
    _default_url = ENSEMBLE_URL

    def _model_points(self, model: str, station: Station, days: Sequence[date], now: datetime) -> list[ForecastPoint]:
        where = f"{self._source} {model} {station.icao}"
        members = member_series(self._answer(model, station, days, where), where=where)
        return ensemble_points(members, station, days, model=model, fetched_at=now)
