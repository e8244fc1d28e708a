"""Import the weather part of a history folder laid out like ../shared/data.

Taken, in this order (see each module for its rules and its available_at):

- ``observations/ghcnd/<GHCN id>.csv`` -> Observation ``ghcnd`` (weather.history.observations)
- ``observations/acis/<ICAO>.csv`` -> Observation ``acis``
- ``fivethirtyeight/<ICAO>.csv`` -> Observation ``fivethirtyeight``
- ``observations/settlements-halsted/<SERIES>.csv`` -> Observation ``iem-cli`` (or
  ``ghcnd`` where the file's value is NCEI's)
- ``forecasts/nws-forecasts-<years>.csv`` -> ForecastSnapshot ``nws-email`` and
  Observation ``nws-city`` (weather.history.nws)
- ``forecasts/open-meteo-nyc-archive.csv.gz`` -> ForecastSnapshot ``open-meteo``
- ``forecasts/open-meteo-historical-<series>-hourly.csv`` -> ForecastSnapshot
  ``open-meteo-historical`` (weather.history.open_meteo)
- ``forecasts/visual-crossing/<SERIES>-hourly.csv.gz`` -> ForecastSnapshot
  ``visual-crossing`` (weather.history.visual_crossing)
- ``forecasts/noaa-guidance/<SERIES>.csv`` -> ForecastSnapshot ``noaa-guidance``, of
  the 2-m temperature at 15:00 local, not the high (weather.history.noaa_guidance)

Refused with a reason: the ``-daily.csv`` companions of Open-Meteo and Visual
Crossing (a calendar day, not the city's climate day; the hourly files
supersede them) and ``forecasts/cities.csv`` (metadata). A station file whose
station is not a city's settlement station, or a series file of a series no
city has, is skipped with a note. Imports stream, write in committed batches
and are idempotent; a malformed line raises MalformedLine naming file and
line, with every row before it kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from kalshiweb.history import KindReport
from kalshiweb.progress import SILENT, Progress
from markets.history.readers import MalformedLine, stage_files
from weather.history import noaa_guidance, nws, observations, open_meteo, visual_crossing
from weather.history.store import (
    BatchWriter,
    ForecastRow,
    ObservationRow,
    Row,
    upsert_forecasts,
    upsert_observations,
)
from weather.models import City, Observation

OBSERVATION_KINDS = ("ghcnd", "acis", "fivethirtyeight", "settlements-halsted")
FORECAST_KINDS = ("nws-email", "open-meteo-archive", "open-meteo-historical", "visual-crossing", "noaa-guidance")
KINDS = (*OBSERVATION_KINDS, *FORECAST_KINDS)
# nws-city is not a kind of file: its observations come from the nws-email file.
REPORTED_KINDS = (*OBSERVATION_KINDS, "nws-city", *FORECAST_KINDS)

_HOURLY = re.compile(r"open-meteo-historical-([a-z0-9]+)-hourly\.csv")
_DAILY = re.compile(r"open-meteo-historical-([a-z0-9]+)-daily\.csv")
_NWS = re.compile(r"nws-forecasts-\d{4}-\d{4}\.csv")
_SERIES_CSV = re.compile(r"([A-Z0-9]+)\.csv")
_VC_HOURLY = re.compile(r"([A-Z0-9]+)-hourly\.csv\.gz")
_VC_DAILY = re.compile(r"([A-Z0-9]+)-daily\.csv")
# Folders of files named after a Kalshi series: folder -> (kind, the names it takes)
_SERIES_FOLDERS: dict[tuple[str, ...], tuple[str, re.Pattern[str]]] = {
    ("observations", "settlements-halsted"): ("settlements-halsted", _SERIES_CSV),
    ("forecasts", "visual-crossing"): ("visual-crossing", _VC_HOURLY),
    ("forecasts", "noaa-guidance"): ("noaa-guidance", _SERIES_CSV),
}
DAILY_REFUSED = (
    "Open-Meteo daily values of the New York calendar day, not the city's climate day; "
    "the matching -hourly.csv file supersedes it"
)
CITIES_REFUSED = "metadata of the NWS forecast table's cities; mapped by an explicit table in weather.history.nws"
UNKNOWN_REFUSED = "not a weather history file this importer knows"


@dataclass
class ImportReport:
    kinds: dict[str, KindReport] = field(default_factory=lambda: {kind: KindReport() for kind in REPORTED_KINDS})
    notes: list[str] = field(default_factory=list)


def classify(root: Path, path: Path) -> tuple[str | None, str | None]:
    """(kind, None) for a file taken; (None, reason) for a weather file refused; (None, None) otherwise."""
    parts = path.relative_to(root).parts
    if len(parts) < 2 or parts[0] not in {"observations", "forecasts", "fivethirtyeight"}:
        return None, None
    folder, name = parts[:-1], parts[-1]
    csv = name.endswith((".csv", ".csv.gz"))
    if folder == ("observations", "ghcnd") and csv:
        return "ghcnd", None
    if folder == ("observations", "acis") and csv:
        return "acis", None
    if folder == ("fivethirtyeight",) and csv:
        return "fivethirtyeight", None
    if folder == ("forecasts",):
        return _classify_forecast(name)
    if folder in _SERIES_FOLDERS:
        return _classify_series_file(folder, name)
    return None, UNKNOWN_REFUSED


def _classify_series_file(folder: tuple[str, ...], name: str) -> tuple[str | None, str | None]:
    kind, names = _SERIES_FOLDERS[folder]
    if names.fullmatch(name):
        return kind, None
    if kind == "visual-crossing" and _VC_DAILY.fullmatch(name):
        return None, visual_crossing.DAILY_REFUSED
    return None, UNKNOWN_REFUSED


def _classify_forecast(name: str) -> tuple[str | None, str | None]:
    if name == "open-meteo-nyc-archive.csv.gz":
        return "open-meteo-archive", None
    if _HOURLY.fullmatch(name):
        return "open-meteo-historical", None
    if _DAILY.fullmatch(name):
        return None, DAILY_REFUSED
    if _NWS.fullmatch(name):
        return "nws-email", None
    if name == "cities.csv":
        return None, CITIES_REFUSED
    return None, UNKNOWN_REFUSED


def import_files(files: dict[str, list[Path]], *, now: datetime, progress: Progress = SILENT) -> ImportReport:
    """Import files sorted by kind (see classify), observations first, a progress stage per kind."""
    report = ImportReport()
    run = _Run(report, now, progress)
    for kind in KINDS:
        paths = files.get(kind, [])
        if paths:
            stage_files(progress, kind, paths)
        for path in paths:
            report.kinds[kind].files += 1
            _HANDLERS[kind](run, path)
    return report


@dataclass
class _Run:
    report: ImportReport
    now: datetime
    progress: Progress

    def note(self, text: str) -> None:
        self.report.notes.append(text)

    def observations(self, path: Path) -> BatchWriter[ObservationRow]:
        return BatchWriter(path, upsert_observations, now=self.now)

    def forecasts(self, path: Path) -> BatchWriter[ForecastRow]:
        return BatchWriter(path, upsert_forecasts, now=self.now)

    def finish(
        self, path: Path, kind: str, read: int, writer: BatchWriter[ForecastRow] | BatchWriter[ObservationRow]
    ) -> None:
        counts = self.report.kinds[kind]
        counts.read += read
        counts.add(writer.counts)
        if writer.future:
            self.note(f"{path}: {writer.future} {kind} rows not yet known at the import time were not stored")


R = TypeVar("R", bound=Row)


def _drain(rows: Iterator[tuple[int, R]], writer: BatchWriter[R]) -> int:
    """Write every row; on a malformed line, store the rows before it, then raise. Returns the rows read."""
    read = 0
    try:
        for number, row in rows:
            writer.add(row, number)
            read += 1
    except MalformedLine:
        writer.flush()
        raise
    writer.flush()
    return read


def _only_city(path: Path, run: _Run, missing: str, **lookup: str) -> City | None:
    """The one city matching ``lookup``; otherwise a note says why the file is skipped (``missing`` when none)."""
    cities = list(City.objects.filter(**lookup)[:2])
    if len(cities) == 1:
        return cities[0]
    run.note(f"{path}: skipped: {missing if not cities else f'several cities match {lookup}'}")
    return None


def _station_city(path: Path, run: _Run, station: str, lookup: str) -> City | None:
    why = observations.NOT_SETTLEMENT_STATIONS.get(station)
    missing = f"{station} is not the settlement station of any city" + (f" ({why})" if why else "")
    return _only_city(path, run, missing, **{lookup: station})


def _import_station_file(run: _Run, path: Path, kind: str, lookup: str) -> None:
    station = observations.station_of(path)
    city = _station_city(path, run, station, lookup)
    if city is None:
        return
    writer = run.observations(path)
    if kind == "fivethirtyeight":
        source = Observation.Source.FIVETHIRTYEIGHT
        rows = observations.fivethirtyeight_rows(path, city_id=city.id, source=source, progress=run.progress)
    else:
        source = Observation.Source.GHCND if kind == "ghcnd" else Observation.Source.ACIS
        rows = observations.long_table_rows(
            path, station=station, city_id=city.id, source=source, progress=run.progress
        )
    run.finish(path, kind, _drain(rows, writer), writer)


def _import_ghcnd(run: _Run, path: Path) -> None:
    _import_station_file(run, path, "ghcnd", "ghcn_id")


def _import_acis(run: _Run, path: Path) -> None:
    _import_station_file(run, path, "acis", "station_icao")


def _import_fivethirtyeight(run: _Run, path: Path) -> None:
    _import_station_file(run, path, "fivethirtyeight", "station_icao")


def _import_nws(run: _Run, path: Path) -> None:
    found = {city.name: city.id for city in City.objects.filter(name__in=[m.city for m in nws.CITIES.values()])}
    city_ids = {key: found[m.city] for key, m in nws.CITIES.items() if m.city in found}
    for key, mapping in nws.CITIES.items():
        if key not in city_ids:
            run.note(f"{path}: {key[0]} skipped: no city named {mapping.city}")
    forecasts, observed = run.forecasts(path), run.observations(path)
    unmapped: Counter[tuple[str, str]] = Counter()
    read = observed_rows = 0
    try:
        for number, parsed in nws.nws_rows(path, city_ids=city_ids, progress=run.progress):
            read += 1
            if parsed.city_key not in city_ids:
                unmapped[parsed.city_key] += 1
                continue
            if nws.CITIES[parsed.city_key].observations:
                observed_rows += 1
            for row in parsed.forecasts:
                forecasts.add(row, number)
            if parsed.observation is not None:
                observed.add(parsed.observation, number)
    except MalformedLine:
        forecasts.flush()  # the rows before the malformed line are kept
        observed.flush()
        raise
    forecasts.flush()
    observed.flush()
    run.finish(path, "nws-email", read, forecasts)
    run.report.kinds["nws-city"].files += 1
    run.finish(path, "nws-city", observed_rows, observed)
    _note_unmapped(run, path, unmapped)


def _note_unmapped(run: _Run, path: Path, unmapped: Counter[tuple[str, str]]) -> None:
    if not unmapped:
        return
    named = [f"{city} ({why})" for (city, state), why in nws.NOT_MAPPED.items() if (city, state) in unmapped]
    run.note(
        f"{path}: {sum(unmapped.values())} rows of {len(unmapped)} cities whose station is not a settlement "
        f"station were skipped, among them {'; '.join(named) or 'none with a Kalshi series'}"
    )


def _series_city(run: _Run, path: Path, series: str) -> City | None:
    return _only_city(path, run, f"no city has the series {series}", high_series_ticker=series)


def _named_series_city(run: _Run, path: Path, pattern: re.Pattern[str]) -> City | None:
    """The city of the series a file is named after (group 1 of ``pattern``); None, with a note, if none."""
    match = pattern.fullmatch(path.name)
    if match is None:  # classify only routes matching names here
        raise MalformedLine(path, None, f"not a file named like {pattern.pattern}")
    return _series_city(run, path, match.group(1).upper())


def _import_settlements(run: _Run, path: Path) -> None:
    city = _named_series_city(run, path, _SERIES_CSV)
    if city is None:
        return
    writer = run.observations(path)
    sources: Counter[str] = Counter()
    rows = observations.settlement_rows(
        path, station=city.station_icao, city_id=city.id, sources=sources, progress=run.progress
    )
    run.finish(path, "settlements-halsted", _drain(rows, writer), writer)
    run.note(
        f"{path}: highs of {city.station_icao}: {sources[Observation.Source.IEM_CLI]} CLI values via IEM "
        f"(iem-cli), {sources[Observation.Source.GHCND]} NCEI values where IEM had none (ghcnd)"
    )


def _import_archive(run: _Run, path: Path) -> None:
    city = _series_city(run, path, open_meteo.ARCHIVE_SERIES)
    if city is None:
        return
    tally = open_meteo.Tally()
    writer = run.forecasts(path)
    rows = open_meteo.archive_rows(
        path, city_id=city.id, offset_minutes=city.standard_utc_offset_minutes, tally=tally, progress=run.progress
    )
    read = _drain(rows, writer) + tally.partial_days
    if tally.partial_days:
        run.note(f"{path}: {tally.partial_days} forecasts of partial days (n_hours < 24) were not stored")
    run.finish(path, "open-meteo-archive", read, writer)


def _import_historical(run: _Run, path: Path) -> None:
    city = _named_series_city(run, path, _HOURLY)
    if city is None:
        return
    tally = open_meteo.Tally()
    writer = run.forecasts(path)
    rows = open_meteo.historical_rows(
        path, city_id=city.id, offset_minutes=city.standard_utc_offset_minutes, tally=tally, progress=run.progress
    )
    days = _drain(rows, writer)
    run.note(
        f"{path}: hours read as UTC{open_meteo.DOWNLOAD_OFFSET.total_seconds() / 3600:+.0f} (Open-Meteo's fixed "
        f"offset at download), {days} complete climate days of {city.name}, {tally.incomplete_days} incomplete days "
        f"not stored, {tally.filled_hours} zero-filled hours treated as missing"
    )
    run.finish(path, "open-meteo-historical", tally.hours, writer)


def _import_visual_crossing(run: _Run, path: Path) -> None:
    city = _named_series_city(run, path, _VC_HOURLY)
    if city is None:
        return
    tally = visual_crossing.Tally()
    writer = run.forecasts(path)
    rows = visual_crossing.hourly_rows(
        path, city_id=city.id, offset_minutes=city.standard_utc_offset_minutes, tally=tally, progress=run.progress
    )
    _drain(rows, writer)
    run.note(
        f"{path}: {tally.days} forecasts of {city.name}'s climate days from {len(tally.bases)} issue dates, "
        f"{tally.partial_days} of them of partial days (stored with their n_hours, never read as highs); "
        f"{tally.hours_before_issue} hours of the climate day before their issue date not stored"
    )
    run.finish(path, "visual-crossing", tally.hours, writer)


def _import_guidance(run: _Run, path: Path) -> None:
    city = _named_series_city(run, path, _SERIES_CSV)
    if city is None:
        return
    writer = run.forecasts(path)
    rows = noaa_guidance.guidance_rows(
        path,
        city_id=city.id,
        offset_minutes=city.standard_utc_offset_minutes,
        zone=city.timezone,
        progress=run.progress,
    )
    run.finish(path, "noaa-guidance", _drain(rows, writer), writer)


_HANDLERS: dict[str, Callable[[_Run, Path], None]] = {
    "ghcnd": _import_ghcnd,
    "acis": _import_acis,
    "fivethirtyeight": _import_fivethirtyeight,
    "settlements-halsted": _import_settlements,
    "nws-email": _import_nws,
    "open-meteo-archive": _import_archive,
    "open-meteo-historical": _import_historical,
    "visual-crossing": _import_visual_crossing,
    "noaa-guidance": _import_guidance,
}
