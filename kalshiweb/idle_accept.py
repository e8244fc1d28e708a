"""A web process takes a new connection only while its one sync thread is free, as gunicorn's sync workers do.

uvicorn's worker processes share one listening socket and accept from it in their event loops. Here a process
serves its requests one at a time in its one sync thread (kalshiweb.asgi.SyncWorkerHandler), and its event loop
stays free meanwhile, so a busy process went on accepting. asyncio also accepts every waiting connection on one
wake-up: two connections a client opened together landed on one process in 4 of 8 tries, and their requests then
took turns there while other processes sat idle, doubling their latency for as long as the connections lived.

With :func:`install`, a process's event loop accepts at most one connection a wake-up, and none while the process
serves a request: it stops watching the socket and watches again once idle. A connection meanwhile waits in the
kernel's queue for whichever process is free first, and a burst beyond every process queues there, in order.
Only the launcher (kalshiweb.serve) installs it.

This replaces a private method of asyncio's selector event loop (the only kind uvicorn runs without uvloop);
kalshiweb/tests/test_idle_accept.py holds it to the behaviour above on the Python we run.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from asyncio.selector_events import BaseSelectorEventLoop
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_serving: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
_paused: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Callable[[], None]]] = weakref.WeakKeyDictionary()


@contextmanager
def serving_a_request(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While the block runs, ``loop`` accepts no connection; at its end, listening resumes if nothing else is served.

    Entered and left in the loop's own thread, where accepting happens too: no lock needed.
    """
    _serving[loop] = _serving.get(loop, 0) + 1
    try:
        yield
    finally:
        _serving[loop] -= 1
        if not _serving[loop]:
            for resume in _paused.pop(loop, []):
                resume()


def install() -> None:
    """Make asyncio's selector event loops accept as the module says (idempotent)."""
    original = BaseSelectorEventLoop._accept_connection  # type: ignore[attr-defined]
    if getattr(original, "kalshiweb_idle_accept", False):
        return

    def accept_when_idle(
        loop: Any, protocol_factory: Any, sock: socket.socket, sslcontext: Any = None, server: Any = None,
        backlog: int = 100, *timeouts: Any,
    ) -> None:  # fmt: skip
        if _serving.get(loop):
            loop._remove_reader(sock.fileno())
            _paused.setdefault(loop, []).append(
                lambda: _listen_again(loop, protocol_factory, sock, sslcontext, server, backlog, *timeouts)
            )
            return
        original(loop, protocol_factory, sock, sslcontext, server, 1, *timeouts)  # the rest: other processes'

    accept_when_idle.kalshiweb_idle_accept = True  # type: ignore[attr-defined]
    BaseSelectorEventLoop._accept_connection = accept_when_idle  # type: ignore[attr-defined]


def _listen_again(
    loop: Any, protocol_factory: Any, sock: socket.socket, sslcontext: Any, server: Any, backlog: int, *timeouts: Any
) -> None:
    if sock.fileno() == -1 or (server is not None and not server.is_serving()):
        return  # the server closed while this process was busy (shutting down): nothing to listen on
    loop._start_serving(protocol_factory, sock, sslcontext, server, backlog, *timeouts)
