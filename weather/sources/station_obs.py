"""Intraday station observations: the running max and min so far in today's climate day.

api.weather.gov /stations/{ICAO}/observations returns the station's METAR and
5-minute observations (temperatures in °C, often to 0.1 °C, each with a MADIS
quality-control flag). Once the observed maximum is known, the day's high
cannot end below it, which the prediction core uses to drop the mass under it.

This is an indicator, not the settlement value: the CLI's whole-°F maximum
comes from the quality-controlled 1-minute ASOS record and can differ by a
degree, partly through °F→°C→°F rounding, and a short spike between reports
can be missed.

Pure parsing (:func:`running_extremes`) plus a small client; ``now`` is always an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx

from weather.sources.base import (
    BadPayloadError,
    Station,
    WrongLocationError,
    temperature_problem,
    to_fahrenheit,
)
from weather.sources.http import DEFAULT_TIMEOUT_S, get_json
from weather.sources.nws import NWS_API, nws_client
from weather.sources.payload import (
    as_instant,
    as_list,
    as_number,
    as_object,
    as_text,
    require,
)

# MADIS flags: X rejected (failed level 1), Q questioned (failed level 2 or 3), B subjectively bad.
REJECTED_QC_FLAGS = frozenset({"X", "Q", "B"})
# The API caps a page at 500; a day of 5-minute observations is 288.
PAGE_LIMIT = 500


@dataclass(frozen=True)
class RunningExtremes:
    """Max and min °F observed so far in one climate day, as of ``as_of``.

    ``max_f``/``min_f`` are None until a usable observation arrives.
    ``n_ignored`` counts observations dropped as null, quality-flagged or absurd.
    """

    station: str
    climate_date: date
    as_of: datetime
    max_f: float | None
    min_f: float | None
    n_observations: int
    latest_at: datetime | None
    n_ignored: int = 0


def running_extremes(payload: object, station: Station, *, now: datetime) -> RunningExtremes:
    """The running extremes of ``station`` for the climate day containing ``now``.

    Only observations inside [start of that climate day, now] count; the API's
    start/end filter is not trusted to be exact, and observations from another
    station mean the answer is not ours at all.
    """
    where = f"nws observations {station.icao}"
    day = station.climate_date(now)
    start, _ = station.climate_window(day)
    features = as_list(require(as_object(payload, where), "features", where), f"{where}.features")
    values: list[tuple[datetime, float]] = []
    ignored = 0
    for i, raw in enumerate(features):
        feature_where = f"{where}.features[{i}]"
        props = as_object(require(as_object(raw, feature_where), "properties", feature_where), feature_where)
        _require_station(props, station, feature_where)
        at = as_instant(require(props, "timestamp", feature_where), f"{feature_where}.timestamp")
        if not start <= at <= now:
            continue
        value = _temperature_f(props.get("temperature"), f"{feature_where}.temperature")
        if value is None:
            ignored += 1
        else:
            values.append((at, value))
    temps = [v for _, v in values]
    return RunningExtremes(
        station=station.icao,
        climate_date=day,
        as_of=now.astimezone(UTC),
        max_f=max(temps, default=None),
        min_f=min(temps, default=None),
        n_observations=len(values),
        latest_at=max((at for at, _ in values), default=None),
        n_ignored=ignored,
    )


def _temperature_f(raw: object, where: str) -> float | None:
    """The observation's temperature in °F, or None when null, quality-flagged or absurd."""
    if raw is None:
        return None
    quantity = as_object(raw, where)
    value = as_number(quantity.get("value"), f"{where}.value")
    if value is None or quantity.get("qualityControl") in REJECTED_QC_FLAGS:
        return None
    unit = as_text(require(quantity, "unitCode", where), f"{where}.unitCode")
    fahrenheit = to_fahrenheit(value, unit, where=where)
    return None if temperature_problem(fahrenheit) else fahrenheit


def _require_station(props: Mapping[str, object], station: Station, where: str) -> None:
    """Each observation names its station as a URL (".../stations/KNYC") and, lately, as stationId."""
    named = props.get("stationId") or props.get("station")
    if named is None:
        raise BadPayloadError(f"{where}: the observation does not name its station")
    icao = as_text(named, f"{where}.station").rstrip("/").rsplit("/", 1)[-1].upper()
    if icao != station.icao:
        raise WrongLocationError(f"{where}: observation from {icao}, asked for {station.icao}")


class StationObservations:
    """Fetches a station's observations of the current climate day from api.weather.gov."""

    def __init__(
        self,
        *,
        app_name: str,
        contact: str,
        base_url: str = NWS_API,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._client = nws_client(app_name=app_name, contact=contact, transport=transport, timeout=timeout)
        self._base_url = base_url.rstrip("/")

    def close(self) -> None:
        self._client.close()

    def running_extremes(self, station: Station, *, now: datetime) -> RunningExtremes:
        """The running max/min of the climate day containing ``now``, from observations up to ``now``."""
        start, _ = station.climate_window(station.climate_date(now))
        url = f"{self._base_url}/stations/{station.icao}/observations"
        params = {"start": _iso(start), "end": _iso(now), "limit": str(PAGE_LIMIT)}
        payload = get_json(self._client, url, where=f"nws observations {station.icao}", params=params)
        return running_extremes(payload, station, now=now)

    def __repr__(self) -> str:
        return f"StationObservations(base_url={self._base_url!r})"


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
