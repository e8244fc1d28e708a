"""The one-command product: web, worker and beat in one process, stopped cleanly by a signal."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_env(data_dir: Path) -> dict[str, str]:
    # The embedded defaults on purpose, even in the CI pass that sets PostgreSQL and Redis.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(KALSHIWEB_DATA_DIR=str(data_dir), HEARTBEAT_INTERVAL_SECONDS="2")
    return env


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last result {last!r}")


@pytest.fixture
def embedded(tmp_path):
    env = embedded_env(tmp_path)
    setup = subprocess.run(
        [sys.executable, "manage.py", "setup", "--no-admin"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    port = free_port()
    log = (tmp_path / "embedded.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runembedded", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: fetch(base + "/health/")[0] == 200, 60, "the web server")
        yield process, base, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def test_it_serves_and_runs_the_worker_and_beat_then_stops_on_ctrl_c(embedded):
    process, base, data_dir = embedded

    def worker_is_ok():
        _status, body = fetch(base + "/health/")
        health = json.loads(body)
        return health if health["components"]["worker"]["status"] == "ok" else None

    health = wait_for(worker_is_ok, 60, "a heartbeat scheduled by beat and run by the worker")
    assert health["status"] == "degraded"  # no model or market data yet: expected on a fresh install
    for name in ("database", "channel_layer", "broker", "worker"):
        assert health["components"][name]["status"] == "ok", health

    assert fetch(base + "/admin/login/")[0] == 200
    assert fetch(base + "/static/admin/css/base.css")[0] == 200
    status, metrics = fetch(base + "/metrics")
    assert status == 200
    assert b'kalshiweb_trading_state{state="halted"} 1.0' in metrics

    with sqlite3.connect(data_dir / "kalshiweb.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    log = (data_dir / "embedded.log").read_text()
    assert "Shutting down: beat, worker" in log
    assert "Embedded Celery worker stopped" in log
    assert "Traceback" not in log


def test_it_stops_cleanly_on_sigterm(embedded):
    process, _base, data_dir = embedded
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert "Embedded Celery worker stopped" in (data_dir / "embedded.log").read_text()


def test_it_refuses_to_run_on_an_unmigrated_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "runembedded", "--port", str(free_port())],
        cwd=REPO_ROOT,
        env=embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "migration(s) are not applied. Run `make run`" in result.stderr
