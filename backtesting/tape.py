"""One market's public trade tape, as arrays a backtest can search in microseconds.

Prints that share a timestamp and a taker side are one taker order sweeping
several price levels, so they are merged into one trade at the sweep's worst
price (for the taker) and its total size: a backtest must not take the best
level of a sweep as if it were a price on offer.

Units are integers, so nothing is rounded: times in microseconds since the
epoch (UTC), prices in micro-dollars (1e-6 $) of the side the taker bought,
counts in hundredths of a contract.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from markets.schemas.enums import Side

MICROS = 1_000_000  # micro-dollars per dollar
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
I64 = NDArray[np.int64]


def to_micros(moment: datetime) -> int:
    """An aware time as microseconds since the epoch (exact)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


def price_of(micros: int) -> Decimal:
    return Decimal(int(micros)).scaleb(-6)


def count_of(hundredths: int) -> Decimal:
    return Decimal(int(hundredths)).scaleb(-2)


@dataclass(frozen=True)
class Trades:
    """The merged trades of one taker side: what the takers paid for the side they bought."""

    times: I64
    prices: I64  # micro-dollars of the side bought
    counts: I64  # hundredths of a contract

    def last_index(self, at: int) -> int:
        """Index of the last trade at or before ``at`` (µs), -1 if none."""
        return int(np.searchsorted(self.times, at, side="right")) - 1

    def span(self, after: int, until: int) -> range:
        """Indices of the trades with ``after < time <= until``."""
        return range(
            int(np.searchsorted(self.times, after, side="right")), int(np.searchsorted(self.times, until, side="right"))
        )


@dataclass(frozen=True)
class Tape:
    yes: Trades  # trades whose taker bought YES (lifting YES asks)
    no: Trades  # trades whose taker bought NO (hitting YES bids)
    times: I64  # every print, unmerged, for the last traded price
    yes_prices: I64  # YES price of every print, micro-dollars

    def takers(self, bought: Side) -> Trades:
        return self.yes if bought is Side.YES else self.no

    def last_yes_price(self, at: int) -> int | None:
        index = int(np.searchsorted(self.times, at, side="right")) - 1
        return int(self.yes_prices[index]) if index >= 0 else None

    @classmethod
    def from_prints(cls, times: I64, yes_prices: I64, counts: I64, taker_yes: NDArray[np.bool_]) -> Tape:
        """A tape from raw prints in any order (µs, YES micro-dollars, hundredths, taker bought YES)."""
        order = np.lexsort((taker_yes, times))
        times, yes_prices, counts, taker_yes = times[order], yes_prices[order], counts[order], taker_yes[order]
        return cls(
            yes=_merged(times[taker_yes], yes_prices[taker_yes], counts[taker_yes]),
            no=_merged(times[~taker_yes], MICROS - yes_prices[~taker_yes], counts[~taker_yes]),
            times=times,
            yes_prices=yes_prices,
        )

    @classmethod
    def empty(cls) -> Tape:
        nothing = np.zeros(0, dtype=np.int64)
        return cls.from_prints(nothing, nothing, nothing, np.zeros(0, dtype=np.bool_))

    def until(self, moment: int) -> Tape:
        """The tape as it stood at ``moment``: every print after it removed."""
        keep = self.times <= moment
        yes, no = (self.yes.times <= moment), (self.no.times <= moment)
        return Tape(
            yes=Trades(self.yes.times[yes], self.yes.prices[yes], self.yes.counts[yes]),
            no=Trades(self.no.times[no], self.no.prices[no], self.no.counts[no]),
            times=self.times[keep],
            yes_prices=self.yes_prices[keep],
        )


def _merged(times: I64, prices: I64, counts: I64) -> Trades:
    """One trade per timestamp (the inputs are one taker side, sorted): worst price, total size."""
    if len(times) == 0:
        return Trades(times, prices, counts)
    starts = np.flatnonzero(np.r_[True, times[1:] != times[:-1]])
    return Trades(times[starts], np.maximum.reduceat(prices, starts), np.add.reduceat(counts, starts))
