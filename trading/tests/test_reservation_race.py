"""Risk that cannot be raced: workers reserving at once never exceed a limit together, on SQLite as on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from trading.tests.race import SCRIPT, WORKERS, race

D = Decimal


def _check(result: dict[str, object]) -> None:
    assert result["errors"] == []
    counts = [D(str(c)) for c in result["counts"]]  # type: ignore[attr-defined]
    assert 0 < len(counts) < WORKERS  # the limit stopped some of them altogether
    assert D(str(result["exposure"])) <= D(str(result["limit"]))


@pytest.mark.django_db(transaction=True)
def test_workers_reserving_at_once_stay_inside_the_total_exposure_limit_together(tmp_path: Path):
    if connection.vendor != "sqlite":
        _check(race())
        return
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kalshiweb.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",  # a file in WAL mode, as the product runs
        "KALSHIWEB_DATA_DIR": str(tmp_path),
        "REDIS_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    _check(json.loads(done.stdout.strip().splitlines()[-1]))
