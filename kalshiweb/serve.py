"""``python -m kalshiweb.serve [uvicorn options]``: uvicorn's command line, with Nagle's algorithm off for every worker,
and each worker taking connections only while it is free to serve them (kalshiweb.idle_accept).

With ``--workers N`` (or WEB_CONCURRENCY) uvicorn binds the listening socket itself and hands it to its
worker processes, created with ``proto`` 0. Accepted connections inherit that, and asyncio turns on
TCP_NODELAY only for sockets that say IPPROTO_TCP, so each keep-alive response's body waited for the
client's delayed ACK: about 40 ms on every request after a connection's first (uvicorn issue #3149).
The single-process path is unaffected. This wraps the bound socket's descriptor again with IPPROTO_TCP
and then runs uvicorn's own ``main``, so every option of the ``uvicorn`` command works unchanged.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from uvicorn.config import Config
from uvicorn.main import main

from kalshiweb import idle_accept

_TCP_FAMILIES = {socket.AF_INET, socket.AF_INET6}


def as_tcp(sock: socket.socket) -> socket.socket:
    """The same listening socket, saying IPPROTO_TCP, so asyncio sets TCP_NODELAY on what it accepts."""
    if sock.family not in _TCP_FAMILIES or sock.type != socket.SOCK_STREAM or sock.proto == socket.IPPROTO_TCP:
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def _binding_tcp(bind: Callable[[Config], socket.socket]) -> Callable[[Config], socket.socket]:
    def bind_socket(config: Config) -> socket.socket:
        return as_tcp(bind(config))

    return bind_socket


def install() -> None:
    """Make uvicorn's bound sockets say IPPROTO_TCP (idempotent)."""
    if not getattr(Config.bind_socket, "kalshiweb_tcp", False):
        patched = _binding_tcp(Config.bind_socket)
        patched.kalshiweb_tcp = True  # type: ignore[attr-defined]
        Config.bind_socket = patched  # type: ignore[method-assign,assignment]


if __name__ in {"__main__", "__mp_main__"}:
    # uvicorn spawns its workers, and each runs this module again, as __mp_main__, before it serves: the
    # accepting rule must be installed there. The socket's protocol is set once, in the process that binds it.
    idle_accept.install()
if __name__ == "__main__":
    install()
    main()
