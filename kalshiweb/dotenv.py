"""Load a local ``.env`` file into the environment, without overriding real variables."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"


def load_local_env(path: Path = DEFAULT_PATH) -> bool:
    """Read ``path`` if it exists; returns whether anything was loaded.

    Skipped under pytest (which sets PYTEST_VERSION) so that a developer's
    ``.env`` cannot change what the test suite runs against.
    """
    if "PYTEST_VERSION" in os.environ and path == DEFAULT_PATH:
        return False
    return load_dotenv(path, override=False)
