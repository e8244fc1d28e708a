"""Matching on one market's YES book, as Kalshi's V2 orders do it: price-time priority.

A V2 order is a ``bid`` (buy YES) or an ``ask`` (sell YES, which opens NO when
no YES is held) at a YES price in dollars. A taker bid meets the lowest asks
at or below its price, oldest first at each price; a taker ask meets the
highest bids at or above its price. Trades happen at the resting (maker)
order's price.

- Time in force: good-till-canceled rests what is left; immediate-or-cancel
  cancels it; fill-or-kill executes only if the whole count can fill now, and
  otherwise does nothing.
- Post-only: an order that would cross is refused, and nothing happens.
- Self-trade prevention, when the next maker is the taker's own order:
  ``taker_at_cross`` cancels the rest of the taker; ``maker`` cancels the
  resting order and matching goes on.

Level changes are reported as the WebSocket shows books: YES bids at their
price, and asks as NO bids at 1 - price.

Pure: no Django, no clock (sequence numbers and ids come in as arguments).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from markets.schemas.enums import BookSide, SelfTradePrevention, TimeInForce

ONE = Decimal(1)
ZERO = Decimal(0)
TICK = Decimal("0.01")
COUNT_STEP = Decimal("0.01")  # fixed-point counts: two decimals

BookName = Literal["yes", "no"]


class OrderRefused(ValueError):
    """An order the exchange does not accept; ``code`` is the error code Kalshi's API gives."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NewOrder:
    member: str
    ticker: str
    side: BookSide
    price: Decimal  # YES price in dollars
    count: Decimal
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    client_order_id: str = ""
    order_group_id: str | None = None

    def check(self) -> None:
        if not ZERO < self.price < ONE or self.price % TICK:
            raise OrderRefused("invalid_price", f"price {self.price} is not a cent between $0.01 and $0.99")
        if self.count <= 0 or self.count % COUNT_STEP:
            raise OrderRefused("invalid_count", f"count {self.count} is not a positive multiple of 0.01")


@dataclass
class Resting:
    order_id: str
    member: str
    side: BookSide
    price: Decimal
    remaining: Decimal
    client_order_id: str = ""


@dataclass(frozen=True)
class Execution:
    trade_id: str
    ticker: str
    price: Decimal  # YES price, the maker's
    count: Decimal
    taker_side: BookSide
    taker_order_id: str
    taker_member: str
    maker_order_id: str
    maker_member: str


@dataclass(frozen=True)
class LevelChange:
    """A change of size at one level, in the WebSocket's terms: which bids, at which price."""

    book: BookName
    price: Decimal
    delta: Decimal


@dataclass
class Placed:
    """What placing an order did."""

    order_id: str
    executions: list[Execution] = field(default_factory=list)
    changes: list[LevelChange] = field(default_factory=list)
    canceled_makers: list[Resting] = field(default_factory=list)  # by self-trade prevention
    resting: Decimal = ZERO  # left on the book
    canceled: Decimal = ZERO  # not filled and not resting
    group_cancels: list[tuple[str, LevelChange]] = field(default_factory=list)  # (ticker, change): a group tripped

    @property
    def filled(self) -> Decimal:
        return sum((e.count for e in self.executions), ZERO)


class Book:
    """One market's resting orders and their matching."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self._levels: dict[BookSide, dict[Decimal, deque[Resting]]] = {BookSide.BID: {}, BookSide.ASK: {}}
        self.orders: dict[str, Resting] = {}

    # Reading --------------------------------------------------------------------------------

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        """YES bids, best (highest) first."""
        return self._sizes(BookSide.BID, reverse=True)

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        """YES asks, best (lowest) first."""
        return self._sizes(BookSide.ASK, reverse=False)

    def no_bids(self) -> list[tuple[Decimal, Decimal]]:
        """The asks as the WebSocket shows them: NO bids at 1 - price, best first."""
        return [(ONE - price, size) for price, size in self.asks()]

    def _sizes(self, side: BookSide, *, reverse: bool) -> list[tuple[Decimal, Decimal]]:
        levels = self._levels[side]
        return [(price, sum((o.remaining for o in levels[price]), ZERO)) for price in sorted(levels, reverse=reverse)]

    # Orders -----------------------------------------------------------------------------------

    def place(self, order: NewOrder, order_id: str, trade_ids: Iterator[str]) -> Placed:
        """Match ``order`` and rest what its time in force keeps; OrderRefused leaves the book unchanged."""
        order.check()
        if order.post_only and self._crosses(order):
            raise OrderRefused("post_only_cross", f"a post-only {order.side} at {order.price} would cross the book")
        if order.time_in_force is TimeInForce.FILL_OR_KILL and self._fillable(order) < order.count:
            raise OrderRefused(
                "fill_or_kill_insufficient_resting_volume",
                f"fill-or-kill {order.side} of {order.count} at {order.price}: not enough resting volume",
            )
        placed = Placed(order_id)
        remaining = self._match(order, order_id, remaining=order.count, placed=placed, trade_ids=trade_ids)
        if remaining and order.time_in_force is TimeInForce.GOOD_TILL_CANCELED and not placed.canceled:
            self._rest(Resting(order_id, order.member, order.side, order.price, remaining, order.client_order_id))
            placed.changes.append(_change(order.side, order.price, remaining))
            placed.resting = remaining
        else:
            placed.canceled += remaining
        return placed

    def cancel(self, order_id: str) -> tuple[Resting, LevelChange]:
        """Take a resting order off the book."""
        order = self._resting(order_id)
        self._remove(order)
        return order, _change(order.side, order.price, -order.remaining)

    def decrease(self, order_id: str, *, by: Decimal) -> tuple[Resting, LevelChange]:
        """Reduce a resting order's count, keeping its place in the queue; to zero cancels it."""
        order = self._resting(order_id)
        if by <= 0 or by % COUNT_STEP:
            raise OrderRefused("invalid_count", f"decrease by {by}: not a positive multiple of 0.01")
        if by >= order.remaining:
            return self.cancel(order_id)
        order.remaining -= by
        return order, _change(order.side, order.price, -by)

    def _resting(self, order_id: str) -> Resting:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderRefused("order_not_found", f"no resting order {order_id} in {self.ticker}")
        return order

    # Matching --------------------------------------------------------------------------------

    def _opposite(self, order: NewOrder) -> Iterator[tuple[Decimal, deque[Resting]]]:
        """The levels the order can trade with, best first."""
        if order.side is BookSide.BID:
            levels = self._levels[BookSide.ASK]
            prices = sorted(p for p in levels if p <= order.price)
        else:
            levels = self._levels[BookSide.BID]
            prices = sorted((p for p in levels if p >= order.price), reverse=True)
        for price in prices:
            yield price, levels[price]

    def _crosses(self, order: NewOrder) -> bool:
        return next(self._opposite(order), None) is not None

    def _fillable(self, order: NewOrder) -> Decimal:
        """How much would fill now, walking the book as matching would (self-trade prevention included)."""
        total = ZERO
        for _, queue in self._opposite(order):
            for maker in queue:
                if maker.member == order.member:
                    if order.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS:
                        return total
                    continue  # the maker would be canceled
                total += maker.remaining
                if total >= order.count:
                    return total
        return total

    def _match(
        self, order: NewOrder, order_id: str, *, remaining: Decimal, placed: Placed, trade_ids: Iterator[str]
    ) -> Decimal:
        for price, queue in list(self._opposite(order)):
            while queue and remaining:
                maker = queue[0]
                if maker.member == order.member:
                    if order.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS:
                        placed.canceled += remaining
                        return ZERO
                    self._remove(maker)
                    placed.canceled_makers.append(maker)
                    placed.changes.append(_change(maker.side, price, -maker.remaining))
                    continue
                count = min(remaining, maker.remaining)
                placed.executions.append(
                    Execution(
                        trade_id=next(trade_ids),
                        ticker=self.ticker,
                        price=price,
                        count=count,
                        taker_side=order.side,
                        taker_order_id=order_id,
                        taker_member=order.member,
                        maker_order_id=maker.order_id,
                        maker_member=maker.member,
                    )
                )
                placed.changes.append(_change(maker.side, price, -count))
                remaining -= count
                maker.remaining -= count
                if not maker.remaining:
                    self._remove(maker)
            if not remaining:
                break
        return remaining

    def _rest(self, order: Resting) -> None:
        self._levels[order.side].setdefault(order.price, deque()).append(order)
        self.orders[order.order_id] = order

    def _remove(self, order: Resting) -> None:
        queue = self._levels[order.side][order.price]
        queue.remove(order)
        if not queue:
            del self._levels[order.side][order.price]
        del self.orders[order.order_id]


def _change(side: BookSide, price: Decimal, delta: Decimal) -> LevelChange:
    """A YES-book level change as the WebSocket reports it (asks are NO bids at 1 - price)."""
    if side is BookSide.BID:
        return LevelChange("yes", price, delta)
    return LevelChange("no", ONE - price, delta)
