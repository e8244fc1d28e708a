"""Observed daily extremes: GHCN-Daily, RCC-ACIS and FiveThirtyEight files, one station per file.

Each file is named after its station (a GHCN id, or an ICAO id) and is imported
only for the city whose *settlement* station it is: a nearby airport is not the
station Kalshi settles on, and its values must not pass for that city's.

- ``observations/ghcnd/<GHCN id>.csv`` and ``observations/acis/<ICAO>.csv`` are long
  tables (``date, station, element, value_f``): a TMAX line gives the day's high,
  a TMIN line its low, both on the same (city, day) row. Whole °F, final values.
- ``fivethirtyeight/<ICAO>.csv`` has one row per day with ``actual_max_temp`` and
  ``actual_min_temp``; dates are ``YYYY-M-D``. Its days are climate days: on the
  days the shared data lets us check, its KPHL highs and lows equal GHCN's on 365
  of 365 days and its KNYC highs on 364 of 365.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kalshiweb.progress import Progress
from weather.history.parse import (
    RowProblem,
    iso_date,
    low_not_above_high,
    parsed_rows,
    unpadded_date,
    whole_f,
)
from weather.history.store import ObservationRow

LONG_COLUMNS = ("date", "station", "element", "value_f")
FIVETHIRTYEIGHT_COLUMNS = ("date", "actual_min_temp", "actual_max_temp")
_ELEMENT_FIELDS = {"TMAX": "high_f", "TMIN": "low_f"}

# Stations in the shared data that sit in a Kalshi city without being its settlement
# station; named so that the skip note says why, not just "no city".
NOT_SETTLEMENT_STATIONS = {
    "KCQT": "downtown Los Angeles (USC), not LAX where KXHIGHLAX settles",
    "KIAH": "Houston Intercontinental, not Hobby (KHOU) where Houston's series settles",
}


def station_of(path: Path) -> str:
    """The station id a file is named after (``KNYC.csv`` or ``KNYC.csv.gz`` -> ``KNYC``)."""
    return path.name.split(".", 1)[0]


def long_table_rows(
    path: Path, *, station: str, city_id: int, source: str, progress: Progress
) -> Iterator[tuple[int, ObservationRow]]:
    """(line, row) for each TMAX/TMIN line of a GHCN-Daily or ACIS extract."""
    return parsed_rows(
        path,
        expected=LONG_COLUMNS,
        parse=lambda cells: _long_row(cells, station=station, city_id=city_id, source=source),
        progress=progress,
    )


def _long_row(cells: dict[str, str], *, station: str, city_id: int, source: str) -> ObservationRow:
    if cells["station"] != station:
        raise RowProblem(f"station {cells['station']!r} in a file named after {station}")
    name = _ELEMENT_FIELDS.get(cells["element"])
    if name is None:
        raise RowProblem(f"element {cells['element']!r} is not TMAX or TMIN")
    day = iso_date(cells["date"], "date")
    return ObservationRow(city_id, day, source, {name: whole_f(cells["value_f"], "value_f"), "is_final": True})


def fivethirtyeight_rows(
    path: Path, *, city_id: int, source: str, progress: Progress
) -> Iterator[tuple[int, ObservationRow]]:
    """(line, row) for each day of a FiveThirtyEight us-weather-history file."""
    return parsed_rows(
        path,
        expected=FIVETHIRTYEIGHT_COLUMNS,
        parse=lambda cells: _fivethirtyeight_row(cells, city_id=city_id, source=source),
        progress=progress,
    )


def _fivethirtyeight_row(cells: dict[str, str], *, city_id: int, source: str) -> ObservationRow:
    day = unpadded_date(cells["date"], "date")
    high = whole_f(cells["actual_max_temp"], "actual_max_temp")
    low = whole_f(cells["actual_min_temp"], "actual_min_temp")
    low_not_above_high(low, high)
    return ObservationRow(city_id, day, source, {"high_f": high, "low_f": low, "is_final": True})
