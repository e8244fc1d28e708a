"""Bad settings stop start-up with a clear message (checked the way an operator meets them)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, UNREADABLE_PEM_BODY

pytestmark = pytest.mark.slow


def run_manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environ.update({"KALSHIWEB_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "garbage"}, "DATABASE_URL='garbage' is not a valid database URL"),
        ({"DATABASE_URL": "postgres://u:hunter2@db:x/kw"}, "DATABASE_URL='postgres://u:***@db:x/kw'"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "unsupported database"),
        ({"TRADING_MODE": "YOLO"}, "TRADING_MODE='YOLO' is invalid: expected one of DRY, DEMO, LIVE"),
        ({"TRADING_MODE": "DEMO", "KALSHI_ENV": "PROD"}, "KALSHI_ENV=PROD contradicts it"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' is invalid"),
        ({"REST_PAGE_SIZE": "0"}, "REST_PAGE_SIZE='0' is invalid"),
        ({"ENABLE_MICRO_FEATS": "2"}, "ENABLE_MICRO_FEATS='2' is invalid"),
        ({"FIELD_ENCRYPTION_KEY": "not-a-key"}, "FIELD_ENCRYPTION_KEY is invalid"),
        (
            {"KALSHI_API_KEY_ID": "0b6c9a52-6e0f-4d1e-9d55-2f1a1c5f4e3b"},
            "Set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH together",
        ),
        ({"KALSHI_API_KEY_ID": "abc"}, "KALSHI_API_KEY_ID='abc' is invalid: expected a UUID"),
        ({"KALSHI_API_BASE": "http://api.example.com/trade-api/v2"}, "expected a https:// URL"),
    ],
)
def test_it_refuses_to_start_with_bad_settings(tmp_path, env, expected):
    result = run_manage(tmp_path, "check", **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Configuration error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr


def test_it_reports_a_bad_key_file_at_start_up(tmp_path, unreadable_private_pem):
    key_file = tmp_path / "kalshi.pem"
    key_file.write_bytes(unreadable_private_pem)
    result = run_manage(
        tmp_path,
        "check",
        KALSHI_API_KEY_ID="0b6c9a52-6e0f-4d1e-9d55-2f1a1c5f4e3b",
        KALSHI_PRIVATE_KEY_PATH=str(key_file),
    )
    assert result.returncode != 0
    assert "kalshiweb.E001" in result.stderr
    assert f"KALSHI_PRIVATE_KEY_PATH={key_file}: the PEM data is not a readable private key" in result.stderr
    assert UNREADABLE_PEM_BODY.decode() not in result.stderr


def test_it_starts_with_the_embedded_defaults(tmp_path):
    result = run_manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "django-secret-key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "field-encryption-key").stat().st_mode & 0o077 == 0


def test_live_says_at_start_up_what_stops_it_from_trading(tmp_path):
    assert run_manage(tmp_path, "migrate", "-v0").returncode == 0
    result = run_manage(tmp_path, "check", TRADING_MODE="LIVE")
    assert result.returncode == 0, result.stderr  # a warning: the process starts (halted), and says why it is idle
    assert "kalshiweb.W001" in result.stderr
    assert "LIVE_TRADING_ARMED is not set" in result.stderr and "no usable Kalshi production API key" in result.stderr
    assert "no operator has confirmed LIVE trading" in result.stderr
    assert "kalshiweb.W001" not in run_manage(tmp_path, "check").stderr  # DRY: nothing to say


def test_an_unknown_trading_strategy_stops_start_up(tmp_path):
    result = run_manage(tmp_path, "check", TRADING_STRATEGY="model-takr")
    assert result.returncode != 0 and "kalshiweb.E002" in result.stderr
    assert "TRADING_STRATEGY='model-takr' is not a strategy" in result.stderr and "model-taker" in result.stderr


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    fresh = tmp_path / "fresh"
    assert run_manage(fresh, "check").returncode == 0
    assert (fresh / "kalshiweb.sqlite3").stat().st_mode & 0o777 == 0o600
    assert fresh.stat().st_mode & 0o077 == 0

    # A database an earlier release left world-readable is tightened at the next start.
    old = tmp_path / "old"
    old.mkdir()
    (old / "kalshiweb.sqlite3").touch(mode=0o644)
    (old / "kalshiweb.sqlite3").chmod(0o644)
    assert run_manage(old, "check").returncode == 0
    assert (old / "kalshiweb.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_database_that_refuses_connections_is_one_clear_message(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        unused_tcp_port = probe.getsockname()[1]
    url = f"postgres://postgres:hunter2@127.0.0.1:{unused_tcp_port}/kalshiweb"
    result = run_manage(tmp_path, "migrate", DATABASE_URL=url)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"Database error (postgres@127.0.0.1:{unused_tcp_port}/kalshiweb): ")
    assert "refused" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert len(result.stderr.splitlines()) <= 4
