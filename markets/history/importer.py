"""Import the Kalshi part of a history folder laid out like ../shared/data.

``kalshi/events/*.jsonl``, ``kalshi/markets/*.jsonl``, ``kalshi/trades/*.jsonl[.gz]``
and the settled tables under ``kalshi/settled/`` are imported in dependency
order: events, markets, settled tables, then trade tapes. Every other file is
left to other importers or reported as skipped. Imports are idempotent and
committed in batches; a malformed line raises :class:`MalformedLine` after the
rows before it are stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from kalshiweb.history import KindReport
from kalshiweb.progress import SILENT, Progress
from markets.history.catalog import (
    BATCH_SIZE,
    RowProblem,
    UpsertResult,
    event_fields,
    market_fields,
    upsert_events,
    upsert_markets,
)
from markets.history.readers import MalformedLine, csv_rows, json_objects, stage_files
from markets.history.settled import (
    LCSWNN_MARKET_COLUMNS,
    SETTLED_COLUMNS,
    FillBlanks,
    lcswnn_market_row,
    settled_row,
)
from markets.history.tape import import_tape
from markets.models import Market

T = TypeVar("T")

KINDS = ("events", "markets", "settled", "settled-markets", "trades")


@dataclass
class ImportReport:
    kinds: dict[str, KindReport] = field(default_factory=lambda: {kind: KindReport() for kind in KINDS})
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def classify(root: Path, path: Path) -> tuple[str | None, str | None]:
    """(kind, None) for a file this importer takes; (None, reason) for a Kalshi file it refuses;
    (None, None) for a file that is not under kalshi/ (another importer's, or nobody's)."""
    parts = path.relative_to(root).parts
    if len(parts) < 3 or parts[0] != "kalshi":
        return None, None
    folder, name = parts[1:-1], parts[-1]
    if folder == ("events",) and name.endswith(".jsonl"):
        return "events", ""
    if folder == ("markets",) and name.endswith(".jsonl"):
        return "markets", ""
    if folder == ("trades",) and name.endswith((".jsonl", ".jsonl.gz")):
        return "trades", ""
    if folder == ("settled",) and name.endswith(".csv"):
        return "settled", ""
    if folder == ("settled", "lcswnn-markets") and name.endswith(".csv"):
        return "settled-markets", ""
    if folder == ("settled", "lcswnn-backtest"):
        return None, "a derived table without market tickers: cannot be tied to markets"
    return None, "unrecognised Kalshi file"


def plan(root: Path) -> tuple[dict[str, list[Path]], list[tuple[Path, str]]]:
    """The Kalshi files under ``root`` by kind, and the other files with the reason they are not taken."""
    files: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    others: list[tuple[Path, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        kind, reason = classify(root, path)
        if kind is None:
            others.append((path, reason or "not a Kalshi history file"))
        else:
            files[kind].append(path)
    return files, others


def import_kalshi_history(root: Path, *, now: datetime, progress: Progress = SILENT) -> ImportReport:
    """Import every Kalshi file under ``root``; other files are listed in ``report.skipped``."""
    files, others = plan(root)
    report = import_files(files, now=now, progress=progress)
    report.skipped = others
    return report


def import_files(files: dict[str, list[Path]], *, now: datetime, progress: Progress = SILENT) -> ImportReport:
    """Import files already sorted by kind (see classify), in dependency order, a progress stage per kind."""
    report = ImportReport()
    for kind in KINDS:
        paths = files.get(kind, [])
        if paths:
            stage_files(progress, kind, paths)
            _IMPORTERS[kind](paths, report, now, progress)
    return report


def _import_events(paths: list[Path], report: ImportReport, now: datetime, progress: Progress) -> None:
    for path in paths:
        rows = _json_fields(path, event_fields, progress)
        _import_catalog(path, report.kinds["events"], rows, upsert_events, now)


def _import_markets(paths: list[Path], report: ImportReport, now: datetime, progress: Progress) -> None:
    for path in paths:
        # Files are named after their series (kalshi/markets/KXHIGHNY.jsonl), which lets a
        # markets file without its events file create the events it needs.
        upsert = functools.partial(upsert_markets, series_ticker=path.stem)
        _import_catalog(path, report.kinds["markets"], _json_fields(path, market_fields, progress), upsert, now)


def _import_settled(paths: list[Path], report: ImportReport, now: datetime, progress: Progress) -> None:
    for path in paths:
        merge = FillBlanks()
        rows = _csv_fields(path, SETTLED_COLUMNS, settled_row, progress)
        upsert = functools.partial(_upsert_by_series, merge=merge)
        _import_catalog(path, report.kinds["settled"], rows, upsert, now)
        _note_disagreements(path, merge, report)


def _import_lcswnn_markets(paths: list[Path], report: ImportReport, now: datetime, progress: Progress) -> None:
    for path in paths:
        merge = FillBlanks()
        rows = _csv_fields(path, LCSWNN_MARKET_COLUMNS, lcswnn_market_row, progress)
        # These tables have no series column: one file per series.
        upsert = functools.partial(upsert_markets, series_ticker=path.stem, merge=merge)
        _import_catalog(path, report.kinds["settled-markets"], rows, upsert, now)
        _note_disagreements(path, merge, report)


def _import_trades(paths: list[Path], report: ImportReport, now: datetime, progress: Progress) -> None:
    market_ids = dict(Market.objects.values_list("ticker", "id"))
    counts = report.kinds["trades"]
    for path in paths:
        result = import_tape(path, market_ids, progress=progress)
        counts.files += 1
        counts.read += result.read
        counts.created += result.inserted
        counts.unchanged += result.read - result.inserted - result.unknown_market
        if result.unknown_market:
            report.notes.append(
                f"{path}: {result.unknown_market} trades of markets that are not imported, skipped "
                f"(e.g. {', '.join(result.unknown_examples)})"
            )


# One per kind, in KINDS order: events before the markets that refer to them, and the
# markets (from their files or the settled tables) before the trades that refer to them.
_IMPORTERS: dict[str, Callable[[list[Path], ImportReport, datetime, Progress], None]] = {
    "events": _import_events,
    "markets": _import_markets,
    "settled": _import_settled,
    "settled-markets": _import_lcswnn_markets,
    "trades": _import_trades,
}


def _json_fields(path: Path, to_fields: Callable[[dict[str, Any]], T], progress: Progress) -> Iterator[T]:
    for number, data in json_objects(path, progress):
        try:
            yield to_fields(data)
        except RowProblem as exc:
            raise MalformedLine(path, number, str(exc)) from None


def _csv_fields(
    path: Path, expected: tuple[str, ...], to_fields: Callable[[dict[str, str]], T], progress: Progress
) -> Iterator[T]:
    for number, row in csv_rows(path, expected=expected, progress=progress):
        try:
            yield to_fields(row)
        except RowProblem as exc:
            raise MalformedLine(path, number, str(exc)) from None


def _import_catalog(
    path: Path, counts: KindReport, rows: Iterator[T], upsert: Callable[..., UpsertResult], now: datetime
) -> None:
    """Upsert ``rows`` a batch at a time; a problem found only by the upsert names the file.

    A malformed line stops the file, but only after the good rows read before it
    in the same batch are stored: the command promises that everything before
    the line was imported.
    """
    total = UpsertResult()
    read = 0
    chunk: list[T] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= BATCH_SIZE:
                _upsert_batch(path, chunk, upsert, now, total)
                read, chunk = read + len(chunk), []
    except MalformedLine:
        _upsert_batch(path, chunk, upsert, now, total)
        raise
    _upsert_batch(path, chunk, upsert, now, total)
    _count(counts, read + len(chunk), total)


def _upsert_batch(
    path: Path, chunk: list[T], upsert: Callable[..., UpsertResult], now: datetime, total: UpsertResult
) -> None:
    if not chunk:
        return
    try:
        total.add(upsert(chunk, now=now))
    except RowProblem as exc:
        # Found on the whole batch, so no line to name: e.g. an event ticker without a date.
        raise MalformedLine(path, None, str(exc)) from None


def _upsert_by_series(rows: list[tuple[str, dict[str, Any]]], *, now: datetime, merge: FillBlanks) -> UpsertResult:
    """Upsert settled rows series by series: a row's series is where its missing event is created."""
    by_series: dict[str, list[dict[str, Any]]] = {}
    for series, fields in rows:
        by_series.setdefault(series, []).append(fields)
    total = UpsertResult()
    for series, fields_of_series in by_series.items():
        total.add(upsert_markets(fields_of_series, now=now, series_ticker=series, merge=merge))
    return total


def _count(counts: KindReport, read: int, result: UpsertResult) -> None:
    counts.files += 1
    counts.read += read
    counts.add(result)


def _note_disagreements(path: Path, merge: FillBlanks, report: ImportReport) -> None:
    if merge.disagreements:
        report.notes.append(
            f"{path}: {len(merge.disagreements)} values disagree with Kalshi's market objects and were not "
            f"applied (e.g. {merge.disagreements[0]})"
        )
