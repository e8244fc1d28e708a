"""The web's processes answer without Nagle's delay when uvicorn runs several of them (kalshiweb/serve.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

from uvicorn.config import Config

from kalshiweb.serve import as_tcp, install


async def _nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection asyncio accepts on ``listener``, as a uvicorn worker's server would."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    host, port = listener.getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(accepted, 5)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


def test_a_socket_bound_for_several_workers_gets_nodelay_connections():
    install()
    listener = Config("kalshiweb.asgi:application", host="127.0.0.1", port=0, workers=2).bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(_nodelay_of_accepted(listener)) != 0


def test_without_the_protocol_asyncio_leaves_nagle_on():
    """Why serve.py exists: a listener created without IPPROTO_TCP, as uvicorn's is, gets Nagle's algorithm."""
    bare = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    bare.bind(("127.0.0.1", 0))
    assert bare.proto == 0
    assert asyncio.run(_nodelay_of_accepted(bare)) == 0
    fixed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fixed.bind(("127.0.0.1", 0))
    assert asyncio.run(_nodelay_of_accepted(as_tcp(fixed))) != 0


def test_unix_sockets_are_left_alone(tmp_path):
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(tmp_path / "web.sock"))
    assert as_tcp(unix) is unix
    unix.close()


def test_a_web_process_starts_with_its_views_imported_and_its_start_up_heap_frozen(tmp_path):
    """As a uvicorn worker loads ``kalshiweb.asgi:application``: full collections then skip what start-up made."""
    probe = (
        "import gc, sys, kalshiweb.asgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), 'dashboard.views.markets' in sys.modules)"
    )
    env = {**os.environ, "KALSHIWEB_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    frozen, tracked, views_imported = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert views_imported == "True"
    assert int(frozen) > 50_000
    assert int(tracked) < int(frozen) / 10  # what a full collection still walks
