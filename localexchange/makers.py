"""Market makers for the local exchange: two-sided quotes around a probability path.

A path gives each market's fair YES price at a moment: a fixed value, a
seeded random walk around one, or the prints Kalshi recorded on a day
(replayed, time compressed). Each period the maker cancels its quotes and
posts a bid and an ask ``spread`` apart around the path's price, clipped to
the exchange's 1-99 cent range, so the books the bot sees move as a real day
did.

Pure apart from the exchange it trades on: times and the random source come in.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from localexchange.matching import NewOrder, OrderRefused
from localexchange.ws import LocalFeed
from markets.schemas.enums import BookSide, SelfTradePrevention

CENT = Decimal("0.01")
LOWEST, HIGHEST = Decimal("0.01"), Decimal("0.99")

Path = Callable[[datetime], Decimal]


def constant(price: Decimal) -> Path:
    return lambda _at: price


def random_walk(start: Decimal, *, step: Decimal, rng: random.Random) -> Path:
    """A path that moves by up to ``step`` each time it is asked, seeded so a run can be replayed."""
    state = {"price": start}

    def at(_moment: datetime) -> Decimal:
        move = Decimal(rng.uniform(-1, 1)).quantize(Decimal("0.0001")) * step
        state["price"] = min(HIGHEST, max(LOWEST, state["price"] + move))
        return state["price"]

    return at


def recorded(times: Sequence[datetime], prices: Sequence[Decimal], *, before: Decimal) -> Path:
    """The last recorded print at each moment (``before`` until the first)."""
    if len(times) != len(prices) or list(times) != sorted(times):
        raise ValueError("recorded prints need one price per time, in time order")

    def at(moment: datetime) -> Decimal:
        index = bisect.bisect_right(times, moment) - 1
        return prices[index] if index >= 0 else before

    return at


@dataclass
class Maker:
    """Quotes ``size`` contracts each side of every market's path, ``spread`` apart."""

    member: str
    paths: dict[str, Path]
    spread: Decimal = Decimal("0.04")
    size: Decimal = Decimal(25)
    quotes: dict[str, list[str]] = field(default_factory=dict)  # ticker → resting order ids

    async def requote(self, feed: LocalFeed, at: datetime) -> None:
        """Replace every market's quotes around its path's price now."""
        for ticker, path in self.paths.items():
            for order_id in self.quotes.pop(ticker, []):
                try:
                    _, change = feed.exchange.cancel(self.member, order_id)
                except OrderRefused:
                    continue  # filled since
                await feed.publish(ticker, [change], [], at=at)
            self.quotes[ticker] = await self._quote(feed, ticker, path(at), at)

    async def _quote(self, feed: LocalFeed, ticker: str, fair: Decimal, at: datetime) -> list[str]:
        half = self.spread / 2
        bid = _tick(max(LOWEST, fair - half))
        ask = _tick(min(HIGHEST, fair + half))
        if ask <= bid:
            ask = bid + CENT if bid < HIGHEST else bid
            bid = ask - CENT
        resting = []
        for side, price in ((BookSide.BID, bid), (BookSide.ASK, ask)):
            order = NewOrder(
                self.member, ticker, side, price, self.size, self_trade_prevention=SelfTradePrevention.MAKER
            )
            try:
                placed = await feed.place(order, at=at)
            except OrderRefused:
                continue  # out of money, or the market settled: no quote on this side
            if placed.resting:
                resting.append(placed.order_id)
        return resting


def _tick(price: Decimal) -> Decimal:
    return price.quantize(CENT, rounding=ROUND_HALF_UP)
