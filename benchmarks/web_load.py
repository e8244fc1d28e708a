"""Serve the real application on loopback and time requests to it under concurrent load.

The server is uvicorn (through kalshiweb.serve) running ``kalshiweb.asgi:application``, as the Procfile
runs it: in a child process on the benchmark's database, so the load
generator's own work does not share its interpreter. An in-memory SQLite
database (the test suite's) cannot be opened from another process: then the
server runs in a thread of this one.

An operator is logged in the way people are: the admin's login form for the
session cookie the dashboard needs, the token endpoint for the API's token.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.db import connection

from kalshiweb.progress import Progress

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
# As deploy/production.env advises (WEB_CONCURRENCY): two web processes per CPU, and one more. Each process runs
# Django's sync views one at a time, and takes a new connection only while free (kalshiweb.idle_accept). Before
# that, the two keep-alive connections of a load shared one process about half the time, and their requests took
# turns there (a target's p50 doubled). In-thread serving, for the tests' in-memory database, is one process.
CPUS = os.cpu_count() or 1
WEB_PROCESSES = 2 * CPUS + 1
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Target:
    label: str  # e.g. "api markets", "page fills"
    path: str
    api: bool  # token authentication; pages send the session cookie
    statuses: frozenset[int] = frozenset({200})


@dataclass(frozen=True)
class Timing:
    target: Target
    ms: list[float]  # every request's latency under load, in order sent
    alone_ms: list[float]  # one request at a time, before the load
    seconds: float  # wall time of the loaded run
    size: int  # bytes of the last answer

    @property
    def p50(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.ms, 95)


@dataclass(frozen=True)
class Credentials:
    session_cookie: dict[str, str]
    token: str


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (p95 of 100 values is the 95th smallest)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


@contextmanager
def serving() -> Iterator[str]:
    """The application served on a free loopback port for the duration of the block; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(256)
    base = f"http://{HOST}:{listener.getsockname()[1]}"
    try:
        serve = _in_thread if _in_memory() else _in_child
        with serve(listener):
            _wait_until_up(base)
            yield base
    finally:
        listener.close()


@contextmanager
def _in_child(listener: socket.socket) -> Iterator[None]:
    # uvicorn --fd would take the socket for a Unix one and leave Nagle's algorithm on: the
    # port is handed over instead (this process stops listening on it first).
    host, port = listener.getsockname()
    listener.close()
    environment = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_DEBUG": "0"}
    # Served as in production: pages link static files by hashed name, from collectstatic's manifest.
    collect = [sys.executable, "-m", "django", "collectstatic", "--noinput", "--verbosity", "0"]
    subprocess.run(collect, env=environment, check=True)  # noqa: S603 - our own argv
    command = [
        sys.executable,
        "-m",
        "kalshiweb.serve",
        "kalshiweb.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
    ]
    command += ["--no-access-log", "--log-level", "warning", "--lifespan", "off", "--workers", str(WEB_PROCESSES)]
    # Its log (an access line a request, thousands a run) goes to a file, not between the progress and the figures.
    with tempfile.NamedTemporaryFile(prefix="kalshiweb-bench-web-", suffix=".log", delete=False) as log:
        print(f"The web server's log: {log.name}", file=sys.stderr)
        child = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def _in_thread(listener: socket.socket) -> Iterator[None]:
    import uvicorn

    from kalshiweb.asgi import application

    config = uvicorn.Config(application, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="bench-web-server", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def processes() -> int:
    """How many web processes serve the load."""
    return 1 if _in_memory() else WEB_PROCESSES


def cpus() -> int:
    """How many requests the server can work on at once: its CPUs (one, served in a thread of this process)."""
    return 1 if _in_memory() else CPUS


def _in_memory() -> bool:
    name = str(connection.settings_dict["NAME"])
    return connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name)


def _database_url() -> str:
    """The URL of the database this process uses (the runner's throwaway one), for the child server."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor != "postgresql":
        raise RuntimeError(f"cannot serve a {connection.vendor} database from a child process")
    user = quote(settings.get("USER") or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{user}{password}@{settings.get('HOST') or 'localhost'}{port}/{settings['NAME']}"


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            httpx.get(f"{base}/health/", timeout=START_TIMEOUT)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def log_in(base: str, username: str, password: str) -> Credentials:
    """A session cookie from the admin's login form and a token from the API, as an operator gets them."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        form = client.get("/admin/login/")
        form.raise_for_status()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if found is None:
            raise RuntimeError("the admin's login form has no CSRF token")
        answer = client.post(
            "/admin/login/?next=/admin/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": found.group(1)},
            headers={"Referer": f"{base}/admin/login/"},
        )
        if "sessionid" not in client.cookies:
            raise RuntimeError(f"logging in through the admin failed ({answer.status_code})")
        session = {"sessionid": client.cookies["sessionid"]}
        token = client.post("/api/auth/token/", data={"username": username, "password": password})
        token.raise_for_status()
        return Credentials(session, token.json()["token"])


@dataclass(frozen=True)
class Load:
    requests: int  # per target, under load
    concurrency: int  # requests in flight
    alone: int  # per target, one at a time, before the load
    # No new request after this long on one target: a target taking seconds a request would
    # otherwise hold the run for hours. Its figures then rest on the requests that were sent.
    budget_seconds: float


def measure(base: str, credentials: Credentials, targets: list[Target], load: Load, progress: Progress) -> list[Timing]:
    """Each target in turn: ``load.alone`` requests one at a time, then ``load.requests`` under load."""
    return asyncio.run(_measure_all(base, credentials, targets, load, progress))


async def _measure_all(
    base: str, credentials: Credentials, targets: list[Target], load: Load, progress: Progress
) -> list[Timing]:
    limits = httpx.Limits(max_connections=load.concurrency, max_keepalive_connections=load.concurrency)
    timings = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as pages,
        httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as api,
    ):
        pages.cookies.update(credentials.session_cookie)
        api.headers["Authorization"] = f"Token {credentials.token}"
        for target in targets:
            progress.stage(f"{target.label}: {target.path}", total=1 + load.alone + load.requests)
            client = api if target.api else pages
            size = await _get(client, target, [], progress)  # warm: the first answer also says the target works
            alone_ms: list[float] = []
            deadline = time.perf_counter() + load.budget_seconds / 4
            while len(alone_ms) < load.alone and time.perf_counter() < deadline:
                await _get(client, target, alone_ms, progress)
            loaded_ms: list[float] = []
            started = time.perf_counter()
            await _load(client, target, load, loaded_ms, progress)
            timings.append(Timing(target, loaded_ms, alone_ms, time.perf_counter() - started, size))
    return timings


async def _load(client: httpx.AsyncClient, target: Target, load: Load, into: list[float], progress: Progress) -> None:
    remaining = iter(range(load.requests))
    deadline = time.perf_counter() + load.budget_seconds

    async def worker() -> None:
        for _ in remaining:  # the workers share one iterator: each request is sent once
            if time.perf_counter() > deadline:
                return
            await _get(client, target, into, progress)

    await asyncio.gather(*(worker() for _ in range(load.concurrency)))


async def _get(client: httpx.AsyncClient, target: Target, into: list[float], progress: Progress) -> int:
    started = time.perf_counter()
    response = await client.get(target.path)
    body = await response.aread()
    into.append((time.perf_counter() - started) * 1000)
    progress.advance()
    if response.status_code not in target.statuses:  # timing an error page would be meaningless
        raise RuntimeError(f"{target.path} answered {response.status_code}: {body[:300]!r}")
    return len(body)


def overall(timings: list[Timing]) -> dict[str, Any]:
    """p50, p95 and throughput over every loaded request of every target."""
    every = [ms for timing in timings for ms in timing.ms]
    seconds = sum(timing.seconds for timing in timings)
    return {
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "rate": len(every) / seconds,
        "requests": len(every),
    }
