"""A throwaway database for a drill: a SQLite file in a temporary folder, migrated, gone when the block ends.

Every thread's ``default`` connection points at it while the block runs (the
feed records from a worker thread of its own), so nothing the drill does can
reach the configured database.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command
from django.db import connections
from django.db.utils import load_backend

ALIAS = "default"


@contextlib.contextmanager
def throwaway_database() -> Iterator[Path]:
    """Point ``default`` at a new, migrated SQLite file until the block ends; yields its path."""
    with tempfile.TemporaryDirectory(prefix="faultdrill-") as folder:
        path = Path(folder) / "drill.sqlite3"
        wanted = {
            ALIAS: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(path),
                # As the project's own SQLite: writers queue (the feed's and the cycle's) instead of failing.
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL", "transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        }
        drill_settings = connections.configure_settings(wanted)[ALIAS]
        configured = connections.settings[ALIAS]
        this_thread = connections[ALIAS]
        connection = load_backend(drill_settings["ENGINE"]).DatabaseWrapper(drill_settings, ALIAS)
        connections.settings[ALIAS] = drill_settings  # the connections other threads open from now on
        connections[ALIAS] = connection
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield path
        finally:
            connection.close()
            connections.settings[ALIAS] = configured
            connections[ALIAS] = this_thread
