"""How a resting order fills from the trades that come after it: the one rule the paper broker and the backtest share.

A resting bid fills only from takers of the other side, never from the print
that was there when it was placed. A trade *through* its price (a better
price for the taker than ours) would have matched it first, so it fills up to
the trade's size; a trade *at* its price first eats the contracts queued ahead
of it, and only what is left reaches it.

Pure: no Django. Works on any one unit (integers of the backtest's tape, or Decimals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

N = TypeVar("N", int, Decimal)


def resting_fill(*, limit: N, price: N, size: N, queue_ahead: N, remaining: N) -> tuple[N, N]:
    """(contracts filled, queue ahead afterwards) when a taker of the other side trades ``size`` at ``price``.

    ``limit`` and ``price`` are in the resting order's own side's terms: the
    trade reaches it when ``price <= limit``.
    """
    if price > limit or remaining <= 0:
        return remaining - remaining, queue_ahead  # a zero of the caller's type
    if price == limit:
        eaten = min(queue_ahead, size)
        queue_ahead -= eaten
        size -= eaten
    return max(size - size, min(remaining, size)), queue_ahead
