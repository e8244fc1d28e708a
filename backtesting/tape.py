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

import bisect
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property

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

    @cached_property
    def _times(self) -> list[int]:
        # One look-up at a time is a bisection of a list: numpy's per-call cost is ten times that.
        return list(self.times.tolist())

    def last_index(self, at: int) -> int:
        """Index of the last trade at or before ``at`` (µs), -1 if none."""
        return bisect.bisect_right(self._times, at) - 1

    def span(self, after: int, until: int) -> range:
        """Indices of the trades with ``after < time <= until``."""
        return range(bisect.bisect_right(self._times, after), bisect.bisect_right(self._times, until))


@dataclass(frozen=True)
class Tape:
    yes: Trades  # trades whose taker bought YES (lifting YES asks)
    no: Trades  # trades whose taker bought NO (hitting YES bids)
    times: I64  # every print, unmerged, for the last traded price
    yes_prices: I64  # YES price of every print, micro-dollars

    def takers(self, bought: Side) -> Trades:
        return self.yes if bought is Side.YES else self.no

    @cached_property
    def _times(self) -> list[int]:
        return list(self.times.tolist())

    def last_yes_price(self, at: int) -> int | None:
        index = bisect.bisect_right(self._times, at) - 1
        return int(self.yes_prices[index]) if index >= 0 else None

    @classmethod
    def from_prints(cls, times: I64, yes_prices: I64, counts: I64, taker_yes: NDArray[np.bool_]) -> Tape:
        """One market's tape from raw prints in any order (µs, YES micro-dollars, hundredths, taker bought YES)."""
        markets = np.zeros(len(times), dtype=np.int64)
        return tapes_from_prints(markets, times, yes_prices, counts, taker_yes).get(0) or cls.empty()

    @classmethod
    def empty(cls) -> Tape:
        nothing = np.zeros(0, dtype=np.int64)
        return cls(Trades(nothing, nothing, nothing), Trades(nothing, nothing, nothing), nothing, nothing)

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


def tapes_from_prints(
    markets: I64, times: I64, yes_prices: I64, counts: I64, taker_yes: NDArray[np.bool_]
) -> dict[int, Tape]:
    """Every market's tape from raw prints of many markets in any order, with whole-array operations only.

    Sorting, merging sweeps and splitting by market are done once over all the
    prints: a backtest reads a million of them, and numpy calls per market
    would cost more than the work.
    """
    order = np.lexsort((taker_yes, times, markets))
    markets, times, yes_prices = markets[order], times[order], yes_prices[order]
    counts, taker_yes = counts[order], taker_yes[order]
    ids, starts = np.unique(markets, return_index=True)
    bounds = np.append(starts, len(markets))
    yes = _merged_by_market(markets[taker_yes], times[taker_yes], yes_prices[taker_yes], counts[taker_yes], ids)
    no = _merged_by_market(
        markets[~taker_yes], times[~taker_yes], MICROS - yes_prices[~taker_yes], counts[~taker_yes], ids
    )
    return {
        int(market): Tape(yes[i], no[i], times[bounds[i] : bounds[i + 1]], yes_prices[bounds[i] : bounds[i + 1]])
        for i, market in enumerate(ids.tolist())
    }


def _merged_by_market(markets: I64, times: I64, prices: I64, counts: I64, ids: I64) -> list[Trades]:
    """One side's trades merged per (market, timestamp), worst price and total size, split by market (sorted input)."""
    if len(times):
        new = np.r_[True, (times[1:] != times[:-1]) | (markets[1:] != markets[:-1])]
        starts = np.flatnonzero(new)
        markets, times = markets[starts], times[starts]
        prices, counts = np.maximum.reduceat(prices, starts), np.add.reduceat(counts, starts)
    bounds = [*np.searchsorted(markets, ids, side="left").tolist(), len(markets)]
    return [Trades(times[lo:hi], prices[lo:hi], counts[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
