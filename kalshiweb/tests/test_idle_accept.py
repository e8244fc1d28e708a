"""A web process takes connections only while free to serve them (kalshiweb/idle_accept.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from asyncio.selector_events import BaseSelectorEventLoop
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kalshiweb import idle_accept
from kalshiweb.idle_accept import serving_a_request


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Recorded first, so the test's end puts asyncio's own method back.
    asyncios_own = getattr(BaseSelectorEventLoop, "_accept_connection")  # noqa: B009 - private to asyncio
    monkeypatch.setattr(BaseSelectorEventLoop, "_accept_connection", asyncios_own)
    idle_accept.install()
    ours = getattr(BaseSelectorEventLoop, "_accept_connection")  # noqa: B009
    idle_accept.install()
    assert ours is not asyncios_own and getattr(BaseSelectorEventLoop, "_accept_connection") is ours  # noqa: B009
    yield


class Counted(asyncio.Protocol):
    made: list[asyncio.BaseTransport]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


async def _accepted_after(server_made: list[asyncio.BaseTransport], seconds: float) -> int:
    await asyncio.sleep(seconds)
    return len(server_made)


def _connect(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port))  # the kernel completes it: it waits to be accepted
    return client


def test_a_busy_process_leaves_new_connections_waiting_until_it_is_free(installed: None) -> None:
    async def scenario() -> tuple[int, int, int]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.BaseTransport] = []
        protocol = type("Probe", (Counted,), {"made": made})
        server = await loop.create_server(protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clients = []
        try:
            with serving_a_request(loop):
                clients.append(_connect(port))
                while_busy = await _accepted_after(made, 0.3)
                with serving_a_request(loop):  # a second request in the same process: still busy after it
                    pass
                clients.append(_connect(port))
                still_busy = await _accepted_after(made, 0.3)
            once_free = await _accepted_after(made, 0.3)
            return while_busy, still_busy, once_free
        finally:
            for client in clients:
                client.close()
            server.close()
            await server.wait_closed()

    while_busy, still_busy, once_free = asyncio.run(scenario())
    assert (while_busy, still_busy) == (0, 0)
    assert once_free == 2  # both waited in the kernel's queue, none lost


class Listener(socket.socket):
    """A listening socket that counts the connections taken from it."""

    taken = 0

    def accept(self) -> tuple[socket.socket, object]:
        conn, address = super().accept()  # raises BlockingIOError when none is waiting
        self.taken += 1
        return conn, address


def _taken_on_one_wake_up(waiting: int) -> int:
    """Connections one ready-to-read event on the listening socket takes, with ``waiting`` in the kernel's queue."""

    async def scenario() -> int:
        loop: Any = asyncio.get_running_loop()
        listener = Listener(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        clients = [_connect(listener.getsockname()[1]) for _ in range(waiting)]
        try:
            loop._accept_connection(asyncio.Protocol, listener)  # what the loop runs when the socket is readable
            taken = listener.taken
            await asyncio.sleep(0.1)  # the accepted connections' set-up tasks finish
            return taken
        finally:
            for client in clients:
                client.close()
            listener.close()

    return asyncio.run(scenario())


def test_an_idle_process_takes_one_connection_a_wake_up(installed: None) -> None:
    """The others are left to whichever process wakes next (this one too, on its next turn, if still idle)."""
    assert _taken_on_one_wake_up(waiting=3) == 1


def test_a_server_closed_while_busy_is_not_listened_to_again(installed: None) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        client = _connect(server.sockets[0].getsockname()[1])
        with serving_a_request(loop):
            await asyncio.sleep(0.2)  # the waiting connection pauses listening
            server.close()
            await server.wait_closed()
        client.close()  # leaving the block resumed nothing: no error on the closed socket

    asyncio.run(scenario())


def test_without_it_asyncio_takes_every_waiting_connection_at_once() -> None:
    """Why the module exists: the process that wakes first takes them all, so a client's connections share it."""
    assert _taken_on_one_wake_up(waiting=3) == 3


@pytest.mark.slow
def test_served_by_kalshiweb_serve_a_new_connection_goes_to_a_free_worker(tmp_path: Path) -> None:
    """The launcher as production runs it (uvicorn spawning its workers): while one worker serves a request, a
    connection opened meanwhile is served by the other. Left to chance, it lands on the busy one about half the
    time; six tries in a row would all miss it once in 64 runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "kalshiweb.serve", "kalshiweb.tests.busy_app:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2", "--lifespan", "off", "--log-level", "warning"]
    env = {**os.environ, "KALSHIWEB_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        for _ in range(6):
            with httpx.stream("GET", f"{base}/?hold=30", timeout=60) as held:
                chunks = held.iter_raw()  # kept: a dropped iterator closes the response
                busy = next(chunks).decode()  # its worker is serving until the response ends
                other = httpx.get(f"{base}/", timeout=10).text  # a new connection, meanwhile
                assert other != busy, "a new connection went to the worker that was busy"
                # Leaving the block closes the held connection, and its worker stops serving.
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/", timeout=5)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
