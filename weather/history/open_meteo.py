"""Open-Meteo history: the point-in-time NYC archive, and the historical-forecast hourly files.

**forecasts/open-meteo-nyc-archive.csv.gz** is the point-in-time source: 14-day
forecasts archived every hour by climate-cache/nyc-forecasts, already reduced to
each climate day's max/min (complete 24-hour days only). One row becomes one
ForecastSnapshot of New York, source ``open-meteo``, model
``best_match-lower-manhattan``: the archiving job called /v1/forecast without a
``models`` parameter (Open-Meteo's best_match mix) at 40.71N 73.99W, lower
Manhattan rather than Central Park (expect ~1 °F cold at lead >= 1). Lead 0
includes hours already past at the issue time: model values, not observations.

available_at is ``issue_utc`` + 1 hour, not ``issue_utc``. The job
(.github/workflows/nyc_14d_openmeteo.yml) is scheduled at minute 1 of every
hour, GitHub may start it later, and it names the file after the hour it
started in with the minutes cut off, then downloads seconds later. So the
forecast was fetched at some moment in the hour after ``issue_utc``; a model run
that landed during that hour may be in it. The end of that hour is the earliest
instant we can prove it was known. issued_at stays empty: the archive does not
say which model run it holds.

**forecasts/open-meteo-historical-<series>-hourly.csv** (cpratim/Kalshi-Weather-Trading)
comes from Open-Meteo's Historical Forecast API, which stitches the first hours of
successive model runs: a day's values were assembled from runs issued during that
day, so they are a near-observation, never a forecast. Each complete climate day
becomes a ForecastSnapshot with source ``open-meteo-historical``, model
``best_match-city-centre`` (requested at city-centre coordinates, not the
settlement station), and available_at = the end of the climate day + 12 hours.
The last hour of a day comes from a run initialised at most at the day's end,
and a run is distributed hours after its initialisation time (the computation
delay Open-Meteo's Single Runs API documentation describes). 12 hours covers the
slowest global model with room, and a value that can only arrive after the day
is over costs a forecast nothing.

The ``time`` column is "America/New_York" for every city, but not a DST clock.
Open-Meteo applies the one UTC offset in force *when the request is made* to the
whole series (maintainer, open-meteo/open-meteo#1255 and #261). The author's
code appends a download per run; the source file runs on to 2025-05-09 with 24
rows on 2025-03-09, including 02:00, which does not exist on a DST clock; the
first version with these columns (ending 2025-04-29, downloaded in EDT) already
holds the January-February rows as they are here. Against the point-in-time
archive above (each day's last lead-0 issue), the 18 daily extremes that differ
between reading the rows as UTC-4 and as UTC-5 are closer at UTC-4 14 times out
of 18. So this vintage is read at the fixed offset UTC-4 (:data:`DOWNLOAD_OFFSET`);
a file that repeats or skips an hour is on some other clock and is refused
rather than guessed at.

Missing values were replaced by 0 by the author (``fillna(0)``). A 0 °F hour is
kept only where it is believable: a run of at most two zeros whose neighbouring
hours are both within 10 °F of zero (a real 0 °F in Denver sits between -3 and
2 °F; a filled 0 in Miami sits between 65s). Any other zero is a missing hour, so
its climate day is incomplete and not stored. 10 °F is about the 99th
percentile of hour-to-hour changes in these files (Denver, the most variable).

The matching ``-daily.csv`` files cover the New York calendar day (at that same
fixed offset), not the city's climate day; the importer refuses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from kalshiweb.progress import Progress
from markets.history.readers import MalformedLine, csv_rows
from weather.climate import climate_date_at, climate_day_window
from weather.history.parse import (
    RowProblem,
    decimal_f,
    integer,
    iso_date,
    low_not_above_high,
    naive_hour,
    naive_seconds,
)
from weather.history.store import ForecastRow
from weather.sources.base import HOURS_PER_CLIMATE_DAY, Sample, daily_extremes

ARCHIVE_SOURCE = "open-meteo"
ARCHIVE_MODEL = "best_match-lower-manhattan"
ARCHIVE_SERIES = "KXHIGHNY"
ARCHIVE_COLUMNS = (
    "issue_local",
    "issue_utc",
    "utc_offset_s",
    "target_date_lst",
    "lead_days",
    "fcst_tmax_f",
    "fcst_tmin_f",
    "n_hours",
)
ARCHIVE_FETCHED_WITHIN = timedelta(hours=1)
_ARCHIVE_CLOCK = ZoneInfo("America/New_York")  # the job names files by US/Eastern wall clock

HISTORICAL_SOURCE = "open-meteo-historical"
HISTORICAL_MODEL = "best_match-city-centre"
HISTORICAL_COLUMNS = ("time", "temperature_2m")
DOWNLOAD_OFFSET = timedelta(hours=-4)
AVAILABLE_AFTER_DAY = timedelta(hours=12)
ZERO_NEIGHBOUR_F = 10.0
MAX_ZERO_RUN = 2
_HOUR = timedelta(hours=1)


@dataclass
class Tally:
    """What a file held besides the rows it gave, for the import notes."""

    hours: int = 0  # hourly rows read
    partial_days: int = 0  # archive rows with n_hours < 24
    incomplete_days: int = 0  # hourly climate days missing an hour
    filled_hours: int = 0  # hourly zeros read as the author's fill for a missing value


def archive_rows(
    path: Path, *, city_id: int, offset_minutes: int, tally: Tally, progress: Progress
) -> Iterator[tuple[int, ForecastRow]]:
    """(line, row) for each complete-day forecast of the archive; partial days are only counted."""
    stamp: tuple[str, str, str] | None = None
    issue: tuple[datetime, date] | None = None  # an issue spans ~13 consecutive rows: checked once
    for number, cells in csv_rows(path, expected=ARCHIVE_COLUMNS, progress=progress):
        try:
            if issue is None or stamp != (cells["issue_utc"], cells["issue_local"], cells["utc_offset_s"]):
                stamp = (cells["issue_utc"], cells["issue_local"], cells["utc_offset_s"])
                issued = _archive_issue(cells)
                issue = (issued, climate_date_at(issued, offset_minutes))
            row = _archive_row(cells, *issue, city_id=city_id)
        except RowProblem as exc:
            raise MalformedLine(path, number, str(exc)) from None
        if row is None:
            tally.partial_days += 1
        else:
            yield number, row


def _archive_row(cells: dict[str, str], issued: datetime, issue_day: date, *, city_id: int) -> ForecastRow | None:
    target = iso_date(cells["target_date_lst"], "target_date_lst")
    lead = integer(cells["lead_days"], "lead_days")
    expected_lead = (target - issue_day).days
    if lead != expected_lead or lead < 0:
        raise RowProblem(f"lead_days {lead} does not match target_date_lst {target} issued {issued:%Y-%m-%d %H:%MZ}")
    n_hours = integer(cells["n_hours"], "n_hours")
    if not 0 <= n_hours <= HOURS_PER_CLIMATE_DAY:
        raise RowProblem(f"n_hours {n_hours} is outside 0..{HOURS_PER_CLIMATE_DAY}")
    high = decimal_f(cells["fcst_tmax_f"], "fcst_tmax_f")
    low = decimal_f(cells["fcst_tmin_f"], "fcst_tmin_f")
    low_not_above_high(low, high)
    if n_hours < HOURS_PER_CLIMATE_DAY:
        return None  # a partial day's max/min is not the day's: never a forecast of it
    return ForecastRow(
        source=ARCHIVE_SOURCE,
        model=ARCHIVE_MODEL,
        city_id=city_id,
        target_date=target,
        available_at=issued + ARCHIVE_FETCHED_WITHIN,
        issued_at=None,
        high_f=high,
        low_f=low,
    )


def _archive_issue(cells: dict[str, str]) -> datetime:
    """issue_utc, checked against issue_local and utc_offset_s (which also catches shifted columns)."""
    issued = naive_seconds(cells["issue_utc"], "issue_utc").replace(tzinfo=UTC)
    local = naive_seconds(cells["issue_local"], "issue_local")
    offset = timedelta(seconds=integer(cells["utc_offset_s"], "utc_offset_s"))
    if issued.replace(tzinfo=None) + offset != local:
        raise RowProblem("issue_local is not issue_utc + utc_offset_s")
    if issued.astimezone(_ARCHIVE_CLOCK).utcoffset() != offset:
        raise RowProblem(f"utc_offset_s {cells['utc_offset_s']} is not New York's offset at {issued:%Y-%m-%d %H:%MZ}")
    return issued


def historical_rows(
    path: Path, *, city_id: int, offset_minutes: int, tally: Tally, progress: Progress
) -> Iterator[tuple[int, ForecastRow]]:
    """(line of the day's last hour, row) for each complete climate day of an hourly file."""
    readings = _unfilled(_hourly_readings(path, tally, progress), tally)
    for number, day, samples in _climate_days(readings, offset_minutes):
        extremes = daily_extremes(samples, [day], offset_minutes)[day]
        if extremes.n_hours < HOURS_PER_CLIMATE_DAY:
            tally.incomplete_days += 1
            continue
        _, end = climate_day_window(day, offset_minutes)
        yield (
            number,
            ForecastRow(
                source=HISTORICAL_SOURCE,
                model=HISTORICAL_MODEL,
                city_id=city_id,
                target_date=day,
                available_at=end + AVAILABLE_AFTER_DAY,
                issued_at=None,
                high_f=extremes.high_f,
                low_f=extremes.low_f,
            ),
        )


Reading = tuple[int, datetime, float | None]


def _hourly_readings(path: Path, tally: Tally, progress: Progress) -> Iterator[Reading]:
    """(line, UTC instant, °F) per row; the series must be one unbroken run of hours."""
    clock = timezone(DOWNLOAD_OFFSET)
    previous: datetime | None = None
    for number, cells in csv_rows(path, expected=HISTORICAL_COLUMNS, progress=progress):
        try:
            at = naive_hour(cells["time"], "time").replace(tzinfo=clock).astimezone(UTC)
            if previous is not None and at != previous + _HOUR:
                raise RowProblem(
                    f"time {cells['time']} does not follow the previous row by one hour: the file is not one "
                    "unbroken series at a fixed UTC offset (a repeated or skipped hour means a DST clock)"
                )
            value = decimal_f(cells["temperature_2m"], "temperature_2m")
        except RowProblem as exc:
            raise MalformedLine(path, number, str(exc)) from None
        previous = at
        tally.hours += 1
        yield number, at, value


def _unfilled(readings: Iterator[Reading], tally: Tally) -> Iterator[Reading]:
    """The readings with the author's 0-filled gaps turned back into missing values (None)."""
    before: float | None = None
    run: list[Reading] = []
    for reading in readings:
        if reading[2] == 0:
            run.append(reading)
            continue
        yield from _settled(run, before, reading[2], tally)
        run = []
        before = reading[2]
        yield reading
    yield from _settled(run, before, None, tally)


def _settled(run: list[Reading], before: float | None, after: float | None, tally: Tally) -> list[Reading]:
    if not run:
        return run
    believable = (
        len(run) <= MAX_ZERO_RUN
        and before is not None
        and after is not None
        and abs(before) <= ZERO_NEIGHBOUR_F
        and abs(after) <= ZERO_NEIGHBOUR_F
    )
    if believable:
        return run
    tally.filled_hours += len(run)
    return [(number, at, None) for number, at, _ in run]


def _climate_days(readings: Iterator[Reading], offset_minutes: int) -> Iterator[tuple[int, date, list[Sample]]]:
    """(last line, climate day, its samples) per day, one day in memory at a time."""
    day: date | None = None
    samples: list[Sample] = []
    last = 0
    for number, at, value in readings:
        current = climate_date_at(at, offset_minutes)
        if current != day:
            if day is not None:
                yield last, day, samples
            day, samples = current, []
        samples.append((at, value))
        last = number
    if day is not None:
        yield last, day, samples
