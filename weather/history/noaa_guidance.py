"""NOAA HRRR and NBM guidance: forecasts/noaa-guidance/<SERIES>.csv (Austin and Chicago).

Each row (Halsted312/weather_updated, extracted from NOAA's GRIB2 files on AWS
at the settlement station's coordinates) is one model run's 2-m temperature
for a single instant, 15:00 local clock time on ``target_date``, from the 12 UTC
run of the day before. It is not a daily maximum (the source's column name
``peak_window_max_f`` says otherwise, but the author's code samples the hour 15
only) and runs 2-3.5 °F colder than the settled high. So each row becomes a
ForecastSnapshot with source ``noaa-guidance``, model ``hrrr-t2m-1500`` or
``nbm-t2m-1500``, and quantity ``t2m_1500_local``: a predictor of the high with
its own bias, which readers of highs must not take for one. ``n_hours`` is 1:
the value covers one hour of the climate day, so anything that reads only
complete-day highs leaves it out.

issued_at is the run time, which the file gives exactly. The file does not say
when the run was published; the data's README advises using a row no earlier
than the run time + 3 hours (publication is typically 1-2 hours after the run),
so available_at is :data:`PUBLISHED_WITHIN` after issued_at, never sooner.

The valid time is checked to be 15:00 on ``target_date`` by the city's own
clock, and its climate day (weather.climate) to be ``target_date``: 15:00
daylight time is 14:00 standard time, inside the same climate day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kalshiweb.progress import Progress
from weather.climate import climate_date_at
from weather.history.parse import RowProblem, decimal_f, iso_date, parsed_rows, utc_seconds
from weather.history.store import ForecastRow
from weather.models import ForecastSnapshot

SOURCE = "noaa-guidance"
MODELS = {"hrrr": "hrrr-t2m-1500", "nbm": "nbm-t2m-1500"}  # the file's model -> ours, named for the quantity
COLUMNS = ("target_date", "model", "run_datetime_utc", "valid_datetime_utc", "t2m_1500_local_f")
VALID_CLOCK = time(15)
# The README's rule for this extract (publication "typically 1-2 h" after the run, not recorded).
PUBLISHED_WITHIN = timedelta(hours=3)
HOURS_COVERED = 1  # one instant's value: never a complete day's high


def guidance_rows(
    path: Path, *, city_id: int, offset_minutes: int, zone: str, progress: Progress
) -> Iterator[tuple[int, ForecastRow]]:
    """(line, row) for each run of each model in a guidance file; ``zone`` is the city's IANA zone."""
    clock = ZoneInfo(zone)
    return parsed_rows(
        path,
        expected=COLUMNS,
        parse=lambda cells: _row(cells, city_id=city_id, offset_minutes=offset_minutes, clock=clock),
        progress=progress,
    )


def _row(cells: dict[str, str], *, city_id: int, offset_minutes: int, clock: ZoneInfo) -> ForecastRow:
    model = MODELS.get(cells["model"])
    if model is None:
        raise RowProblem(f"model {cells['model']!r} is not one of {', '.join(MODELS)}")
    target = iso_date(cells["target_date"], "target_date")
    run = utc_seconds(cells["run_datetime_utc"], "run_datetime_utc")
    valid = utc_seconds(cells["valid_datetime_utc"], "valid_datetime_utc")
    _check_valid_time(valid, target, offset_minutes=offset_minutes, clock=clock)
    if run >= valid:
        raise RowProblem(f"run_datetime_utc {cells['run_datetime_utc']} is not before the valid time")
    return ForecastRow(
        source=SOURCE,
        model=model,
        city_id=city_id,
        target_date=target,
        available_at=run + PUBLISHED_WITHIN,
        issued_at=run,
        high_f=decimal_f(cells["t2m_1500_local_f"], "t2m_1500_local_f"),
        low_f=None,
        n_hours=HOURS_COVERED,
        quantity=ForecastSnapshot.Quantity.T2M_1500_LOCAL,
    )


def _check_valid_time(valid: datetime, target: date, *, offset_minutes: int, clock: ZoneInfo) -> None:
    local = valid.astimezone(clock)
    if (local.date(), local.time()) != (target, VALID_CLOCK):
        raise RowProblem(
            f"valid_datetime_utc {valid:%Y-%m-%dT%H:%MZ} is {local:%Y-%m-%d %H:%M} {clock.key}, "
            f"not {VALID_CLOCK:%H:%M} local on target_date {target}"
        )
    if climate_date_at(valid, offset_minutes) != target:  # cannot happen at 15:00 local; checked, not assumed
        raise RowProblem(f"valid_datetime_utc {valid:%Y-%m-%dT%H:%MZ} is not in the climate day {target}")
