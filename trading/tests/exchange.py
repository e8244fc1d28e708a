"""The local exchange served on loopback, and our real KalshiClient signed in to it (trading.drill.venue)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from kalshiweb.modes import TradingMode
from localexchange.exchange import Exchange
from markets.client import KalshiClient
from trading.drill.venue import MEMBER, Served, serve

served = serve  # with faults injected from a seeded script and the client's timeouts chosen

__all__ = ["MEMBER", "Served", "served", "serving"]


@contextlib.contextmanager
def serving(
    exchange: Exchange, key: Any, *, mode: TradingMode = TradingMode.DEMO, signing_key: Any = None
) -> Iterator[KalshiClient]:
    """Serve ``exchange`` over REST and WebSocket until the block ends; yields a client signed in as ``bot``.

    ``key`` is the one the exchange registers for ``bot``; the client signs with ``signing_key`` (default: it).
    """
    with serve(exchange, key, mode=mode, signing_key=signing_key) as running_exchange:
        yield running_exchange.client
