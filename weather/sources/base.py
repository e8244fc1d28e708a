"""The WeatherSource port: what every forecast adapter is given and what it returns.

A source is given a :class:`Station` and the climate dates wanted, and returns
:class:`ForecastPoint` values, one per (model, climate date), in °F with aware
UTC times. What every provider must agree on lives here, so that all of them
compute a day the same way:

- the climate day comes from :mod:`weather.climate` (local *standard* time,
  half-open [start, end)); :func:`daily_extremes` is the one place where hourly
  values become a day's max/min, and it counts the hours it saw so that a
  partial day is flagged instead of passing for a whole one;
- units are converted in one place, :func:`to_fahrenheit`;
- nonsense is named, never guessed around: a payload that cannot be read
  raises a :class:`SourceError` subclass saying what and where, and a point
  that parsed but is implausible gets a reason from :func:`check_point`
  (:func:`screen` splits a batch). The caller logs and counts rejections; a
  rejected value must never replace good data.

Pure code with no Django imports. Nothing here reads the clock: ``now`` is an argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from weather.climate import climate_date_at, climate_day_window, standard_time_zone

HOURS_PER_CLIMATE_DAY = 24
# Wider than any US station has seen (134 °F Death Valley, -80 °F Alaska): a value
# outside it is a unit or decoding error, not weather.
PLAUSIBLE_MIN_F = -80.0
PLAUSIBLE_MAX_F = 135.0
# NWS grids and the global models refresh every 1-6 hours; a run older than this
# is a stuck feed (api.weather.gov has served day-old grids), not a forecast.
DEFAULT_MAX_RUN_AGE = timedelta(hours=18)
# Providers stamp run times with their own clocks; a few minutes ahead of ours is skew, not fiction.
CLOCK_SKEW = timedelta(minutes=5)
_HOUR = timedelta(hours=1)
_ICAO = re.compile(r"^[A-Z0-9]{4}$")
_EARTH_RADIUS_KM = 6371.0


class SourceError(Exception):
    """A source could not deliver. The message says what and where, and never holds an API key."""


class SourceUnavailableError(SourceError):
    """Unreachable: connection failure, timeout, HTTP 429 or 5xx. Worth retrying later."""


class SourceRequestError(SourceError):
    """The provider refused our request (HTTP 3xx/4xx): a bad parameter, a bad or expired key."""


class SourceDisabledError(SourceError):
    """A keyed source without a key: it makes no request at all."""


class BadPayloadError(SourceError):
    """The answer cannot be used: not JSON, a missing field, a value of the wrong type or unit."""


class WrongLocationError(BadPayloadError):
    """The answer is for another place than the station asked about."""


class StaleForecastError(BadPayloadError):
    """The provider served a model run older than the allowed age."""


@dataclass(frozen=True, kw_only=True)
class Station:
    """A settlement station as the sources need it (built from a City by the caller)."""

    icao: str
    latitude: float
    longitude: float
    elevation_m: float
    standard_utc_offset_minutes: int
    timezone: str
    cli_code: str = ""
    cli_office: str = ""
    nws_grid_office: str | None = None
    nws_grid_x: int | None = None
    nws_grid_y: int | None = None

    def __post_init__(self) -> None:
        if not _ICAO.match(self.icao):
            raise ValueError(f"station id {self.icao!r} is not a four-character ICAO id like KNYC")
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"{self.icao}: coordinates {self.latitude},{self.longitude} are out of range")
        standard_time_zone(self.standard_utc_offset_minutes)  # raises ValueError when absurd

    def climate_window(self, day: date) -> tuple[datetime, datetime]:
        """UTC [start, end) of this station's climate day ``day``."""
        return climate_day_window(day, self.standard_utc_offset_minutes)

    def climate_date(self, instant: datetime) -> date:
        """The climate day at this station that contains ``instant``."""
        return climate_date_at(instant, self.standard_utc_offset_minutes)


@dataclass(frozen=True, kw_only=True)
class ForecastPoint:
    """One model's forecast of one climate day at one station, as received at ``fetched_at``.

    ``n_hours`` is how many hours of the 24-hour climate day the values cover:
    a day that began before the forecast starts, or runs past the model's
    horizon, has fewer and is partial. For ensembles ``high_f``/``low_f`` are
    the means of the members' daily extremes and ``n_hours`` is the smallest
    coverage of any member.
    """

    source: str
    model: str
    station: str
    target_date: date
    issued_at: datetime | None
    fetched_at: datetime
    high_f: float | None
    low_f: float | None
    n_hours: int
    members_high_f: tuple[float, ...] = ()
    members_low_f: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("fetched_at", self.fetched_at), ("issued_at", self.issued_at)):
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"ForecastPoint.{name} must be timezone-aware, got {value!r}")

    @property
    def is_partial(self) -> bool:
        return self.n_hours < HOURS_PER_CLIMATE_DAY

    @property
    def is_ensemble(self) -> bool:
        return bool(self.members_high_f or self.members_low_f)

    @property
    def label(self) -> str:
        return f"{self.source}/{self.model} {self.station} {self.target_date.isoformat()}"


@dataclass(frozen=True)
class Rejection:
    """A point that parsed but is nonsense, and why. Log it and count it; never store it."""

    point: ForecastPoint
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced: good points, rejected points, and requests that failed.

    A source that makes several independent requests (one per model) keeps the
    good ones when another fails; the failure is reported here. When every
    request fails the source raises instead.
    """

    points: tuple[ForecastPoint, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    failures: tuple[SourceError, ...] = ()


@runtime_checkable
class WeatherSource(Protocol):
    """A forecast provider. Live adapters call the network; a replay source reads recorded points."""

    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    def fetch(self, station: Station, dates: Sequence[date], *, now: datetime) -> FetchResult:
        """Forecasts of ``dates`` (climate days) at ``station``, stamped ``fetched_at=now``.

        Raises SourceError when nothing could be fetched.
        """
        ...


# --- Units -----------------------------------------------------------------------------

_FAHRENHEIT = frozenset({"degf", "f", "°f", "fahrenheit"})
_CELSIUS = frozenset({"degc", "c", "°c", "celsius"})
_KELVIN = frozenset({"k", "degk", "kelvin"})


def celsius_to_fahrenheit(celsius: float) -> float:
    return celsius * 9.0 / 5.0 + 32.0


def to_fahrenheit(value: float, unit: str, *, where: str) -> float:
    """``value`` in °F, given the unit its payload names ("degF", "wmoUnit:degC", "°C", "F", ...).

    NaN passes through so that :func:`check_point` can reject it with a reason.
    """
    code = unit.rsplit(":", 1)[-1].strip().lower()  # "wmoUnit:degC" -> "degc"
    if code in _FAHRENHEIT:
        return value
    if code in _CELSIUS:
        return celsius_to_fahrenheit(value)
    if code in _KELVIN:
        return celsius_to_fahrenheit(value - 273.15)
    raise BadPayloadError(f"{where}: unknown temperature unit {unit!r}")


# --- The climate day ---------------------------------------------------------------------

Sample = tuple[datetime, float | None]


@dataclass(frozen=True)
class DailyExtremes:
    """The max and min of one climate day's values, and how many hours of it they covered."""

    day: date
    high_f: float | None
    low_f: float | None
    n_hours: int


def daily_extremes(samples: Iterable[Sample], days: Iterable[date], offset_minutes: int) -> dict[date, DailyExtremes]:
    """Max/min over each climate day in ``days`` of timed °F values (aware datetimes).

    A value belongs to the climate day containing its time, computed by
    weather.climate, so 00:30 daylight time belongs to the previous day. None
    values are skipped (the model had nothing for that hour); ``n_hours``
    counts distinct hours of the window that had a value, so sub-hourly data
    still tops out at 24. A NaN or infinity anywhere in a day makes that day's
    extremes NaN: corrupt data must be rejected by check_point, not averaged away.
    """
    wanted = set(days)
    values: dict[date, list[float]] = {day: [] for day in wanted}
    hours: dict[date, set[int]] = {day: set() for day in wanted}
    # Each day's window start is worked out once, not per reading (an ensemble call has thousands).
    # Lazily, on the day's first reading: an offset that raises still raises only when a value is seen.
    starts: dict[date, datetime] = {}
    for at, value in samples:
        if value is None:
            continue
        day = climate_date_at(at, offset_minutes)
        if day not in wanted:
            continue
        start = starts.get(day)
        if start is None:
            start = starts[day] = climate_day_window(day, offset_minutes)[0]
        hours[day].add(int((at - start) // _HOUR))
        values[day].append(value)
    return {day: _extremes(day, values[day], len(hours[day])) for day in sorted(wanted)}


def forecast_points(
    extremes: Mapping[date, DailyExtremes],
    *,
    source: str,
    model: str,
    station: Station,
    issued_at: datetime | None,
    fetched_at: datetime,
) -> list[ForecastPoint]:
    """One ForecastPoint per climate day that had at least one value (days past the horizon have none)."""
    return [
        ForecastPoint(
            source=source,
            model=model,
            station=station.icao,
            target_date=day,
            issued_at=issued_at,
            fetched_at=fetched_at,
            high_f=daily.high_f,
            low_f=daily.low_f,
            n_hours=daily.n_hours,
        )
        for day, daily in sorted(extremes.items())
        if daily.n_hours
    ]


def wanted_dates(dates: Iterable[date]) -> tuple[date, ...]:
    """The distinct climate dates asked for, in order; asking for none is a caller bug."""
    days = tuple(sorted(set(dates)))
    if not days:
        raise ValueError("fetch needs at least one climate date")
    return days


def gather(parts: Sequence[Callable[[], Sequence[ForecastPoint]]]) -> tuple[list[ForecastPoint], list[SourceError]]:
    """Run a source's independent requests so that one failing does not discard the others.

    Returns the points and the failures; raises the first failure when every part failed.
    """
    points: list[ForecastPoint] = []
    failures: list[SourceError] = []
    for part in parts:
        try:
            points.extend(part())
        except SourceError as exc:
            failures.append(exc)
    if parts and len(failures) == len(parts):
        raise failures[0]
    return points, failures


def _extremes(day: date, values: list[float], n_hours: int) -> DailyExtremes:
    if not values:
        return DailyExtremes(day, None, None, 0)
    if not all(math.isfinite(v) for v in values):
        return DailyExtremes(day, math.nan, math.nan, n_hours)
    return DailyExtremes(day, max(values), min(values), n_hours)


# --- Validation ----------------------------------------------------------------------------


def check_point(point: ForecastPoint, *, now: datetime, max_run_age: timedelta = DEFAULT_MAX_RUN_AGE) -> str | None:
    """Why ``point`` is nonsense, or None when it is plausible."""
    problem = _value_problem(point) or _time_problem(point, now=now, max_run_age=max_run_age)
    return f"{point.label}: {problem}" if problem else None


def screen(
    points: Iterable[ForecastPoint],
    *,
    now: datetime,
    max_run_age: timedelta = DEFAULT_MAX_RUN_AGE,
    failures: Sequence[SourceError] = (),
) -> FetchResult:
    """Split ``points`` into plausible ones and rejections with their reasons."""
    good: list[ForecastPoint] = []
    rejected: list[Rejection] = []
    for point in points:
        reason = check_point(point, now=now, max_run_age=max_run_age)
        if reason is None:
            good.append(point)
        else:
            rejected.append(Rejection(point, reason))
    return FetchResult(tuple(good), tuple(rejected), tuple(failures))


def _value_problem(point: ForecastPoint) -> str | None:
    if not 0 <= point.n_hours <= HOURS_PER_CLIMATE_DAY:
        return f"n_hours {point.n_hours} is outside 0..{HOURS_PER_CLIMATE_DAY}"
    if point.high_f is None and point.low_f is None and not point.is_ensemble:
        return "no values inside the climate day"
    named = [("high_f", point.high_f), ("low_f", point.low_f)]
    named += [(f"members_high_f[{i}]", v) for i, v in enumerate(point.members_high_f)]
    named += [(f"members_low_f[{i}]", v) for i, v in enumerate(point.members_low_f)]
    for name, value in named:
        problem = temperature_problem(value)
        if problem:
            return f"{name} {problem}"
    if point.high_f is not None and point.low_f is not None and point.low_f > point.high_f:
        return f"low_f {point.low_f:.1f} °F is above high_f {point.high_f:.1f} °F"
    return None


def temperature_problem(value: float | None) -> str | None:
    """Why a °F value cannot be a real air temperature (NaN, infinite, absurd), or None."""
    if value is None:
        return None
    if not math.isfinite(value):
        return f"is {value!r}, not a number"
    if not PLAUSIBLE_MIN_F <= value <= PLAUSIBLE_MAX_F:
        return f"{value:.1f} °F is outside the plausible {PLAUSIBLE_MIN_F:.0f}..{PLAUSIBLE_MAX_F:.0f} °F"
    return None


def _time_problem(point: ForecastPoint, *, now: datetime, max_run_age: timedelta) -> str | None:
    if point.fetched_at > now + CLOCK_SKEW:
        return f"fetched_at {point.fetched_at.isoformat()} is after now {now.isoformat()}"
    if point.issued_at is None:
        return None
    if point.issued_at > point.fetched_at + CLOCK_SKEW:
        return f"issued_at {point.issued_at.isoformat()} is after fetched_at {point.fetched_at.isoformat()}"
    return run_age_problem(point.issued_at, fetched_at=point.fetched_at, max_age=max_run_age)


def run_age_problem(issued_at: datetime, *, fetched_at: datetime, max_age: timedelta) -> str | None:
    """Why a run issued at ``issued_at`` is too old to use at ``fetched_at``, or None."""
    age = fetched_at - issued_at
    if age > max_age:
        hours, limit = age / timedelta(hours=1), max_age / timedelta(hours=1)
        return f"stale run issued {issued_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}, {hours:.1f} h old (limit {limit:.0f} h)"
    return None


def require_fresh(issued_at: datetime | None, *, now: datetime, max_age: timedelta, where: str) -> None:
    """Raise StaleForecastError when a whole product's run is older than ``max_age``."""
    problem = None if issued_at is None else run_age_problem(issued_at, fetched_at=now, max_age=max_age)
    if problem:
        raise StaleForecastError(f"{where}: {problem}")


def clamp_issued_at(issued_at: datetime | None, *, fetched_at: datetime) -> datetime | None:
    """A run time at most ``fetched_at``: a few minutes ahead is the provider's clock, not the future.

    Further ahead is left alone for check_point to reject. (Storage requires
    issued_at <= available_at.)
    """
    if issued_at is not None and fetched_at < issued_at <= fetched_at + CLOCK_SKEW:
        return fetched_at
    return issued_at


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def require_near(station: Station, latitude: float, longitude: float, *, max_km: float, where: str) -> None:
    """Raise WrongLocationError when a payload's coordinates are far from the station asked about."""
    km = distance_km(station.latitude, station.longitude, latitude, longitude)
    if not km <= max_km:  # also catches NaN coordinates
        raise WrongLocationError(
            f"{where}: answered for {latitude:.4f},{longitude:.4f}, {km:.0f} km from {station.icao} "
            f"at {station.latitude:.4f},{station.longitude:.4f} (limit {max_km:.0f} km)"
        )
