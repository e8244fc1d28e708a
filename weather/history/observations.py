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
- ``observations/settlements-halsted/<SERIES>.csv`` is named after the series and
  holds one climate day per row: ``tmax_final_f``, the settlement station's CLI
  high as parsed by the IEM CLI JSON API (``source_final`` 'iem') or, where IEM
  had none, NCEI's GHCN-Daily TMAX ('ncei'). Each is stored under what it is:
  Observation ``iem-cli`` or ``ghcnd`` (the same values the GHCN-Daily files give,
  where both exist). A ``station`` other than the city's settlement station, or a
  final value that breaks that rule, is malformed.

All are final daily values without a report time (``reported_at`` empty), so
point-in-time readers date them by the climate day, as any settled high.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from kalshiweb.progress import Progress
from weather.history.parse import (
    RowProblem,
    iso_date,
    low_not_above_high,
    optional_whole_f,
    parsed_rows,
    unpadded_date,
    whole_f,
)
from weather.history.store import ObservationRow
from weather.models import Observation

LONG_COLUMNS = ("date", "station", "element", "value_f")
FIVETHIRTYEIGHT_COLUMNS = ("date", "actual_min_temp", "actual_max_temp")
SETTLEMENT_COLUMNS = ("date", "station", "tmax_final_f", "source_final", "tmax_iem_f", "tmax_ncei_f")
_ELEMENT_FIELDS = {"TMAX": "high_f", "TMIN": "low_f"}
# The file's rule: the final value is IEM's CLI value where there is one, else NCEI's.
# source_final -> (the column it names, the Observation source of that value)
_SETTLEMENT_SOURCES = {
    "iem": ("tmax_iem_f", Observation.Source.IEM_CLI),
    "ncei": ("tmax_ncei_f", Observation.Source.GHCND),
}

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


def settlement_rows(
    path: Path, *, station: str, city_id: int, sources: Counter[str], progress: Progress
) -> Iterator[tuple[int, ObservationRow]]:
    """(line, row) for each day of a settlements-halsted file; ``station`` is the city's settlement station.

    ``sources`` counts the rows given per Observation source, for the import notes.
    """

    def parse(cells: dict[str, str]) -> ObservationRow:
        row = _settlement_row(cells, station=station, city_id=city_id)
        sources[row.source] += 1
        return row

    return parsed_rows(path, expected=SETTLEMENT_COLUMNS, parse=parse, progress=progress)


def _settlement_row(cells: dict[str, str], *, station: str, city_id: int) -> ObservationRow:
    if cells["station"] != station:
        raise RowProblem(f"station {cells['station']!r} is not {station}, the city's settlement station")
    day = iso_date(cells["date"], "date")
    final = whole_f(cells["tmax_final_f"], "tmax_final_f")
    given = {column: optional_whole_f(cells[column], column, missing="") for column, _ in _SETTLEMENT_SOURCES.values()}
    chosen = "iem" if given["tmax_iem_f"] is not None else "ncei"
    column, source = _SETTLEMENT_SOURCES[chosen]
    if cells["source_final"] != chosen or given[column] != final:
        raise RowProblem(
            f"tmax_final_f {cells['tmax_final_f']} from {cells['source_final']!r} breaks the file's rule "
            f"(IEM's value where there is one, else NCEI's): expected {column} {cells[column]!r} from {chosen!r}"
        )
    return ObservationRow(city_id, day, source, {"high_f": final, "is_final": True})
