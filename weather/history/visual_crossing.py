"""Visual Crossing archived forecasts: forecasts/visual-crossing/<SERIES>-hourly.csv.gz.

The files (Halsted312/weather_updated) hold Visual Crossing "historical
forecasts": each forecast as VC issued it on ``forecast_basis_date``, for VC's
city-aggregate location ('Chicago,IL', ...), not the settlement station, so
they run cold against the settled high (Miami by about 4 °F). One row per
forecast hour and basis date, sorted by ``target_datetime_utc`` then basis.

Each (basis date, climate day) becomes one ForecastSnapshot, source
``visual-crossing``, model ``historical-city-aggregate`` (the live Timeline
source asks for the station's coordinates: a different place, so a different
bias, so a different model): the max and min of the hourly ``temp_f`` over the
climate day, with ``n_hours`` the hours present. A day with fewer than 24 hours
is stored with its count and never read as a high (during daylight time a
basis's last clock day is 23 hours of its climate day; the extract's first
day starts at 00:00 UTC). The file's ``target_date_lst``/``hour_lst`` are checked
against weather.climate (a mismatch is a malformed line), and the day is the
climate day computed there. A malformed line stops the import after storing
what came before it, the day being read included, with the hours it had.

During daylight time a basis's first clock hour (00:00 daylight time) belongs
to the climate day before its basis date. That hour is a "forecast" of a day
that was over before it was issued; it is counted, not stored.

available_at is ``available_at_utc`` as the file gives it: 00:00 UTC the day
after the basis date, the conservative rule of the data's README, since VC
gives the issue as a date only. issued_at stays empty for the same reason:
the hour of VC's run is not known, and a made-up one would be read as fact.

The companion ``-daily.csv`` files are refused: their tempmax_f is of VC's
local clock day, which during daylight time is an hour off the climate day,
and every (basis date, target day) they hold is in the hourly file (which
also has basis dates they lack: Chicago 2024-11-25 and 2025-01-04).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from kalshiweb.progress import Progress
from markets.history.readers import MalformedLine, csv_rows
from weather.climate import climate_date_at, climate_day_window
from weather.history.parse import RowProblem, decimal_f, integer, iso_date, utc_seconds
from weather.history.store import ForecastRow
from weather.sources.base import HOURS_PER_CLIMATE_DAY, Sample, daily_extremes

SOURCE = "visual-crossing"
MODEL = "historical-city-aggregate"
COLUMNS = ("target_datetime_utc", "target_date_lst", "hour_lst", "forecast_basis_date", "available_at_utc", "temp_f")
DAILY_REFUSED = (
    "Visual Crossing tempmax_f of the local clock day, an hour off the climate day in daylight time; "
    "the matching -hourly.csv.gz file supersedes it (it holds every issue and day of this file)"
)
_HOUR = timedelta(hours=1)


@dataclass
class Tally:
    """What a file held besides the rows it gave, for the import notes."""

    hours: int = 0  # hourly rows read
    days: int = 0  # (basis date, climate day) forecasts stored
    partial_days: int = 0  # ... of them with fewer than 24 hours
    hours_before_issue: int = 0  # hours of a climate day before the basis date: not forecasts
    bases: set[date] = field(default_factory=set)


@dataclass
class _Issue:
    """One basis date's hours of the climate day being read."""

    available_at: datetime
    samples: list[Sample]
    line: int  # of its latest hour


def hourly_rows(
    path: Path, *, city_id: int, offset_minutes: int, tally: Tally, progress: Progress
) -> Iterator[tuple[int, ForecastRow]]:
    """(line of the forecast's last hour, row) for each basis date's forecast of each climate day.

    The file is in time order, so a climate day is finished when the next one
    starts: one day of every basis date is held in memory, whatever the size.
    """
    cells_of = _Cells(offset_minutes)
    day: date | None = None
    issues: dict[date, _Issue] = {}
    previous: tuple[datetime, date] | None = None
    for number, cells in csv_rows(path, expected=COLUMNS, progress=progress):
        try:
            at, current = cells_of.hour(cells)
            basis, available = cells_of.issue(cells)
            if previous is not None and (at, basis) <= previous:
                raise RowProblem(
                    f"hour {cells['target_datetime_utc']} of basis {basis} does not follow the previous row: the file "
                    "must be sorted by target_datetime_utc, then forecast_basis_date, each hour given once"
                )
            value = decimal_f(cells["temp_f"], "temp_f")
        except RowProblem as exc:
            # The hours before the bad line are kept, as forecasts of the hours they cover (a fixed
            # file's re-import completes them under the same key).
            if day is not None:
                yield from _finished(day, issues, city_id=city_id, offset_minutes=offset_minutes, tally=tally)
            raise MalformedLine(path, number, str(exc)) from None
        previous = (at, basis)
        tally.hours += 1
        if current != day:
            if day is not None:
                yield from _finished(day, issues, city_id=city_id, offset_minutes=offset_minutes, tally=tally)
            day, issues = current, {}
        issue = issues.setdefault(basis, _Issue(available, [], number))
        issue.samples.append((at, value))
        issue.line = number
    if day is not None:
        yield from _finished(day, issues, city_id=city_id, offset_minutes=offset_minutes, tally=tally)


class _Cells:
    """The cells that repeat from row to row, parsed once: an hour over every basis, a basis over its hours."""

    def __init__(self, offset_minutes: int) -> None:
        self._offset = offset_minutes
        self._hour: tuple[tuple[str, str, str], tuple[datetime, date]] | None = None
        self._issues: dict[tuple[str, str], tuple[date, datetime]] = {}
        self._available: dict[date, datetime] = {}

    def hour(self, cells: dict[str, str]) -> tuple[datetime, date]:
        """(UTC hour, its climate day), the file's local-standard-time columns checked against weather.climate."""
        key = (cells["target_datetime_utc"], cells["target_date_lst"], cells["hour_lst"])
        if self._hour is None or self._hour[0] != key:
            self._hour = (key, _climate_hour(*key, offset_minutes=self._offset))
        return self._hour[1]

    def issue(self, cells: dict[str, str]) -> tuple[date, datetime]:
        """(basis date, available_at); one basis date is one issue, available at one instant."""
        key = (cells["forecast_basis_date"], cells["available_at_utc"])
        parsed = self._issues.get(key)
        if parsed is None:
            basis = iso_date(key[0], "forecast_basis_date")
            available = self._available.setdefault(basis, utc_seconds(key[1], "available_at_utc"))
            if available != utc_seconds(key[1], "available_at_utc"):
                raise RowProblem(
                    f"available_at_utc {key[1]} of basis {basis} differs from its earlier hours' "
                    f"{available:%Y-%m-%dT%H:%MZ}"
                )
            parsed = self._issues[key] = (basis, available)
        return parsed


def _climate_hour(utc_text: str, date_text: str, hour_text: str, *, offset_minutes: int) -> tuple[datetime, date]:
    at = utc_seconds(utc_text, "target_datetime_utc")
    day = climate_date_at(at, offset_minutes)
    hour = int((at - climate_day_window(day, offset_minutes)[0]) // _HOUR)
    stated = (iso_date(date_text, "target_date_lst"), integer(hour_text, "hour_lst"))
    if stated != (day, hour):
        raise RowProblem(
            f"target_date_lst {date_text} hour_lst {hour_text} is not the climate day of {utc_text} "
            f"in local standard time ({day} hour {hour})"
        )
    return at, day


def _finished(
    day: date, issues: dict[date, _Issue], *, city_id: int, offset_minutes: int, tally: Tally
) -> Iterator[tuple[int, ForecastRow]]:
    for basis, issue in sorted(issues.items()):
        if day < basis:
            tally.hours_before_issue += len(issue.samples)
            continue
        extremes = daily_extremes(issue.samples, [day], offset_minutes)[day]
        tally.days += 1
        if extremes.n_hours < HOURS_PER_CLIMATE_DAY:
            tally.partial_days += 1
        tally.bases.add(basis)
        yield (
            issue.line,
            ForecastRow(
                source=SOURCE,
                model=MODEL,
                city_id=city_id,
                target_date=day,
                available_at=issue.available_at,
                issued_at=None,
                high_f=extremes.high_f,
                low_f=extremes.low_f,
                n_hours=extremes.n_hours,
            ),
        )
