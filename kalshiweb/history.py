"""``importhistory``'s dispatcher: each app imports the part of a history folder it owns.

An importer is a module with ``KINDS`` (the kinds of file it imports, in order),
``classify(root, path)`` returning (kind, None) for a file it takes, (None,
reason) for a file of its own that it refuses, (None, None) for anything else,
and ``import_files(files_by_kind, now=, progress=)`` returning a report with
``kinds`` (per-kind counts) and ``notes``. Files nobody takes are listed as
skipped, with the reason when an importer gave one.

``progress`` gets a stage per kind of file, measured in kilobytes read (see
markets.history.readers.stage_files).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from kalshiweb.progress import SILENT, Progress

# In dependency order: weather rows may refer to markets' series, never the reverse.
IMPORTERS: tuple[str, ...] = ("markets.history.importer", "weather.history.importer")


class Tally(Protocol):
    """Rows an upsert created, updated and left unchanged (each importer has its own result type)."""

    created: int
    updated: int
    unchanged: int


@dataclass
class KindReport:
    """One kind of file's counts in an importer's report: the ``kinds`` values every importer returns."""

    files: int = 0
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, counts: Tally) -> None:
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged


@dataclass
class HistoryReport:
    sections: list[tuple[str, Any]] = field(default_factory=list)  # (importer name, its report)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def importers() -> list[ModuleType]:
    return [importlib.import_module(name) for name in IMPORTERS]


def import_history(root: Path, *, now: datetime, progress: Progress = SILENT) -> HistoryReport:
    """Route every file under ``root`` to the importer that takes it, then run them in order."""
    modules = importers()
    claimed: dict[str, dict[str, list[Path]]] = {module.__name__: {} for module in modules}
    report = HistoryReport()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        reasons = []
        for module in modules:
            kind, reason = module.classify(root, path)
            if kind is not None:
                claimed[module.__name__].setdefault(kind, []).append(path)
                break
            if reason:
                reasons.append(reason)
        else:
            report.skipped.append((path, reasons[0] if reasons else "not recognised by any importer"))
    for module in modules:
        if claimed[module.__name__]:
            report.sections.append(
                (module.__name__, module.import_files(claimed[module.__name__], now=now, progress=progress))
            )
    return report
