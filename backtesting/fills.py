"""How a backtest's orders fill from the recorded tape: conservatively, and the naive way for comparison.

The conservative model (the default) fills only on evidence, and only after
the decision:

* a taker order buying a side fills from that side's later taker trades (the
  asks the market actually showed) within ``window`` of the decision, at the
  trade's price but never better than the last such trade before the
  decision, never above its limit, and never for more than each trade's size;
* a resting (maker) bid fills only from later trades of takers on the other
  side: in full up to a trade's size when the trade goes *through* its price,
  or at its price once the volume queued ahead of it has traded. With no
  recorded book, the queue ahead is taken to be the size that traded at that
  price in the ``queue_lookback`` before the bid was placed (an order that
  improves on every recent price is first in line).

The naive model fills every taker order in full at the last trade before the
decision and every resting order in full the first time any print touches
its price. It exists only to show how much such a backtest flatters.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from backtesting.tape import MICROS, Tape
from markets.schemas.enums import Side
from trading.queue import resting_fill

ONE_MINUTE = 60_000_000


def other(side: Side) -> Side:
    return Side.NO if side is Side.YES else Side.YES


@dataclass
class SimOrder:
    """A working order in the simulation, in integer units (see backtesting.tape)."""

    client_order_id: str
    ticker: str
    bought: Side
    limit: int  # micro-dollars of the side bought
    remaining: int  # hundredths of a contract
    placed: int  # µs
    expires: int  # µs: the taker window's end, or the market's close for a resting order
    taker: bool
    cursor: int = 0  # the tape has been read up to here (µs)
    reference: int | None = None  # taker: the last same-side taker price before placement
    queue_ahead: int = 0  # maker: hundredths ahead of it at its price


@dataclass(frozen=True)
class SimFill:
    at: int  # µs
    count: int  # hundredths
    price: int  # micro-dollars of the side bought


class FillModel(Protocol):
    @property
    def name(self) -> str: ...

    def taker_window(self) -> int:
        """How long (µs) a taker order keeps looking for fills after its decision."""

    def open(self, order: SimOrder, tape: Tape) -> list[SimFill]:
        """Prepare a new order (and fill it at once, if this model does)."""

    def advance(self, order: SimOrder, tape: Tape, until: int) -> list[SimFill]:
        """Fills from the tape between the order's cursor and ``until``; moves the cursor on."""


@dataclass(frozen=True)
class ConservativeFills:
    window: timedelta = timedelta(minutes=15)
    queue_lookback: timedelta = timedelta(hours=1)
    name: str = "conservative"

    def taker_window(self) -> int:
        return self.window // timedelta(microseconds=1)

    def open(self, order: SimOrder, tape: Tape) -> list[SimFill]:
        order.cursor = order.placed
        if order.taker:
            trades = tape.takers(order.bought)
            index = trades.last_index(order.placed)
            order.reference = int(trades.prices[index]) if index >= 0 else None
        else:
            order.queue_ahead = self._queued_at(order, tape)
        return []

    def _queued_at(self, order: SimOrder, tape: Tape) -> int:
        sellers = tape.takers(other(order.bought))
        since = order.placed - self.queue_lookback // timedelta(microseconds=1)
        span = sellers.span(since, order.placed)
        ours = MICROS - sellers.prices[span.start : span.stop]
        return int(sellers.counts[span.start : span.stop][ours == order.limit].sum())

    def advance(self, order: SimOrder, tape: Tape, until: int) -> list[SimFill]:
        end = min(until, order.expires)
        if end <= order.cursor:
            return []
        fills = self._taker_fills(order, tape, end) if order.taker else self._maker_fills(order, tape, end)
        order.cursor = end
        return fills

    def _taker_fills(self, order: SimOrder, tape: Tape, end: int) -> list[SimFill]:
        trades, fills = tape.takers(order.bought), []
        for i in trades.span(order.cursor, end):
            if order.remaining <= 0:
                break
            price = max(int(trades.prices[i]), order.reference or 0)  # never better than before the decision
            if price <= order.limit:
                count = min(order.remaining, int(trades.counts[i]))
                order.remaining -= count
                fills.append(SimFill(int(trades.times[i]), count, price))
        return fills

    def _maker_fills(self, order: SimOrder, tape: Tape, end: int) -> list[SimFill]:
        sellers, fills = tape.takers(other(order.bought)), []
        for i in sellers.span(order.cursor, end):
            if order.remaining <= 0:
                break
            ours, size = MICROS - int(sellers.prices[i]), int(sellers.counts[i])
            count, order.queue_ahead = resting_fill(
                limit=order.limit, price=ours, size=size, queue_ahead=order.queue_ahead, remaining=order.remaining
            )
            if count > 0:
                order.remaining -= count
                fills.append(SimFill(int(sellers.times[i]), count, order.limit))
        return fills


@dataclass(frozen=True)
class NaiveFills:
    name: str = "naive"

    def taker_window(self) -> int:
        return 0

    def open(self, order: SimOrder, tape: Tape) -> list[SimFill]:
        order.cursor = order.placed
        if not order.taker:
            return []
        last = tape.last_yes_price(order.placed)
        if last is None:
            return []
        price = last if order.bought is Side.YES else MICROS - last
        count, order.remaining = order.remaining, 0
        return [SimFill(order.placed, count, price)]

    def advance(self, order: SimOrder, tape: Tape, until: int) -> list[SimFill]:
        end = min(until, order.expires)
        if order.taker or end <= order.cursor or order.remaining <= 0:
            order.cursor = max(order.cursor, end)
            return []
        start = int(tape.times.searchsorted(order.cursor, side="right"))
        stop = int(tape.times.searchsorted(end, side="right"))
        order.cursor = end
        prices = tape.yes_prices[start:stop] if order.bought is Side.YES else MICROS - tape.yes_prices[start:stop]
        touched = (prices <= order.limit).nonzero()[0]
        if len(touched) == 0:
            return []
        count, order.remaining = order.remaining, 0
        return [SimFill(int(tape.times[start + touched[0]]), count, order.limit)]


FILL_MODELS: dict[str, type[ConservativeFills] | type[NaiveFills]] = {
    "conservative": ConservativeFills,
    "naive": NaiveFills,
}
