"""Generated local keys for the embedded set-up.

A fresh machine has no DJANGO_SECRET_KEY or FIELD_ENCRYPTION_KEY. Rather than
ship a default (which would be shared by every install) we generate each once
into the data directory with owner-only permissions. Production sets both in
the environment. Losing the field encryption key makes stored API keys
unreadable, so the file is never rotated silently.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create_key(path: Path, generate: Callable[[], str]) -> str:
    """Return the key stored at ``path``, creating it (mode 0600) on first use.

    The key is written to a private temporary file and hard-linked into place:
    the link is atomic and fails if the file exists, so when the web server and
    a worker start at the same moment both end up reading the same, complete key.
    """
    if path.exists():
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:  # mkstemp files are 0600
            handle.write(generate())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(tmp, path)
    finally:
        Path(tmp).unlink()
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"Key file {path} is empty; delete it to have a new key generated.")
    return key


def keep_private(path: Path) -> None:
    """Make ``path`` readable by its owner only, creating it empty if missing.

    For the SQLite database, which holds sessions and encrypted keys: SQLite
    creates its file with the process umask (often world-readable), and gives
    its journal and WAL files the database file's mode, so setting the one file
    covers them all.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
