"""Benchmarks: ``make bench`` runs every ``bench_*.py`` here and prints figures.

A benchmark module defines ``run(*, quick: bool) -> list[Figure]``. It may use
the ORM: the runner sets Django up on a throwaway, migrated database (SQLite by
default, or ``--database-url``). Figures are printed, never asserted: speed
targets live here, not in timed tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# ../shared/data beside the repository (KALSHIWEB_SHARED moves it), as the tests find it.
SHARED_DATA_DIR = Path(os.environ.get("KALSHIWEB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"


class Skip(Exception):
    """A benchmark that cannot run here (missing data or service); the message says why."""


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    note: str = ""
