"""The local exchange's accounts: balances, positions, fees and settlement around the matching books.

Positions follow Kalshi's netting (trading.ledger.Position: YES against NO
closes pairs worth $1) and fees follow the series' schedule, one order's fills
paying the order's rounded-up total (trading.fees.OrderFees): the same code
the backtester and the ledger use, so the local exchange cannot disagree with
them about money.

Collateral is conservative: an order needs its whole cost (count x price for a
bid, count x (1 - price) for an ask) and its taker fee available, though
closing held contracts would free cash; what rests stays reserved until it
fills or is canceled.

Pure: no Django; times come in as arguments.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from localexchange.matching import ONE, ZERO, Book, Execution, LevelChange, NewOrder, OrderRefused, Placed, Resting
from markets.schemas.enums import BookSide
from trading.fees import FeeSchedule, OrderFees
from trading.ledger import Position


@dataclass
class Member:
    balance: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)
    reserved: dict[str, Decimal] = field(default_factory=dict)  # resting order id → collateral held for it

    @property
    def available(self) -> Decimal:
        return self.balance - sum(self.reserved.values(), ZERO)

    def position(self, ticker: str) -> Position:
        return self.positions.setdefault(ticker, Position())


@dataclass
class OrderRecord:
    """An order as the exchange reports it (GET /portfolio/orders/{id}): counts, status, fees and costs."""

    order_id: str
    member: str
    ticker: str
    side: BookSide
    price: Decimal
    initial: Decimal
    client_order_id: str
    created: datetime
    filled: Decimal = ZERO
    remaining: Decimal = ZERO
    status: str = "resting"  # resting, executed or canceled
    taker_fees: Decimal = ZERO
    maker_fees: Decimal = ZERO
    taker_cost: Decimal = ZERO
    maker_cost: Decimal = ZERO

    def settle_state(self) -> None:
        if self.remaining:
            self.status = "resting"
        else:
            self.status = "executed" if self.filled == self.initial else "canceled"


@dataclass
class Market:
    book: Book
    fees: FeeSchedule
    result: str | None = None  # "yes" or "no" once settled


class Exchange:
    """Books, members and the money between them."""

    def __init__(self) -> None:
        self.markets: dict[str, Market] = {}
        self.members: dict[str, Member] = {}
        self.fees_collected = ZERO
        self._order_ids: Iterator[int] = itertools.count(1)
        self._trade_ids: Iterator[int] = itertools.count(1)
        self._order_fees: dict[str, OrderFees] = {}
        self._owners: dict[str, tuple[str, str]] = {}  # order id → (member, ticker)
        self.orders: dict[str, OrderRecord] = {}
        self.fill_fees: dict[tuple[str, str], Decimal] = {}  # (trade id, member) → the fee that fill paid
        self.fill_positions: dict[tuple[str, str], Decimal] = {}  # (trade id, member) → YES - NO held after it

    def open_market(self, ticker: str, fees: FeeSchedule) -> None:
        if ticker in self.markets:
            raise OrderRefused("market_exists", f"market {ticker} is open already")
        self.markets[ticker] = Market(Book(ticker), fees)

    def deposit(self, member: str, amount: Decimal) -> None:
        if amount <= 0:
            raise ValueError(f"a deposit is positive, got {amount}")
        self.member(member).balance += amount

    def member(self, name: str) -> Member:
        return self.members.setdefault(name, Member())

    def place(self, order: NewOrder, *, at: datetime) -> Placed:
        """Match an order, move the money of its fills, reserve what rests; OrderRefused changes nothing."""
        market = self._open(order.ticker)
        order.check()
        member = self.member(order.member)
        needed = order.count * _unit_cost(order.side, order.price) + market.fees.fee(
            order.count, order.price, taker=True, at=at
        )
        if needed > member.available:
            raise OrderRefused(
                "insufficient_balance", f"{order.member} has ${member.available} available, the order needs ${needed}"
            )
        order_id = f"ord-{next(self._order_ids)}"
        placed = market.book.place(order, order_id, (f"trd-{n}" for n in self._trade_ids))
        self._order_fees[order_id] = OrderFees(market.fees)
        self.orders[order_id] = OrderRecord(
            order_id, order.member, order.ticker, order.side, order.price, order.count, order.client_order_id, at
        )
        for execution in placed.executions:
            self._settle_fill(execution, market, at=at)
        for maker in placed.canceled_makers:
            self._release(maker)
        if placed.resting:
            member.reserved[order_id] = placed.resting * _unit_cost(order.side, order.price)
            self._owners[order_id] = (order.member, order.ticker)
        record = self.orders[order_id]
        record.remaining = placed.resting
        record.settle_state()
        for maker in placed.canceled_makers:
            self._closed(maker.order_id)
        return placed

    def cancel(self, member: str, order_id: str) -> tuple[Resting, LevelChange]:
        owner = self._owners.get(order_id)
        if owner is None or owner[0] != member:
            raise OrderRefused("order_not_found", f"{member} has no resting order {order_id}")
        order, change = self.markets[owner[1]].book.cancel(order_id)
        self._release(order)
        self._closed(order_id)
        return order, change

    def owner_of(self, order_id: str) -> tuple[str, str] | None:
        """The member and market of a resting order."""
        return self._owners.get(order_id)

    def decrease(self, member: str, order_id: str, *, by: Decimal) -> tuple[Resting, LevelChange]:
        """Reduce a member's resting order by ``by`` (all of it cancels), releasing its collateral."""
        owner = self._owners.get(order_id)
        if owner is None or owner[0] != member:
            raise OrderRefused("order_not_found", f"{member} has no resting order {order_id}")
        order, change = self.markets[owner[1]].book.decrease(order_id, by=by)
        if order.order_id in self.markets[owner[1]].book.orders:
            self.member(member).reserved[order_id] = order.remaining * _unit_cost(order.side, order.price)
            self.orders[order_id].remaining = order.remaining
        else:
            self._release(order)
            self._closed(order_id)
        return order, change

    def settle(self, ticker: str, result: str) -> dict[str, Decimal]:
        """Settle a market at ``result`` ("yes" or "no"): cancel what rests, pay the winners; cash paid by member."""
        market = self._open(ticker)
        if result not in ("yes", "no"):
            raise ValueError(f"a market settles yes or no, got {result!r}")
        for order_id in list(market.book.orders):
            order, _ = market.book.cancel(order_id)
            self._release(order)
            self._closed(order_id)
        payout = ONE if result == "yes" else ZERO
        paid: dict[str, Decimal] = {}
        for name, member in self.members.items():
            position = member.positions.get(ticker)
            if position is not None and position.is_open:
                cash = position.settle(payout)
                member.balance += cash
                paid[name] = cash
        market.result = result
        return paid

    def _open(self, ticker: str) -> Market:
        market = self.markets.get(ticker)
        if market is None:
            raise OrderRefused("market_not_found", f"no market {ticker}")
        if market.result is not None:
            raise OrderRefused("market_closed", f"{ticker} settled {market.result}")
        return market

    def _settle_fill(self, execution: Execution, market: Market, *, at: datetime) -> None:
        maker_side = BookSide.ASK if execution.taker_side is BookSide.BID else BookSide.BID
        for name, order_id, side, taker in (
            (execution.taker_member, execution.taker_order_id, execution.taker_side, True),
            (execution.maker_member, execution.maker_order_id, maker_side, False),
        ):
            fees = self._order_fees.setdefault(order_id, OrderFees(market.fees))
            fee = fees.charge(execution.count, execution.price, taker=taker, at=at)
            self.fill_fees[(execution.trade_id, name)] = fee
            record = self.orders[order_id]
            record.filled += execution.count
            cost = execution.count * _unit_cost(side, execution.price)
            if taker:
                record.taker_fees += fee
                record.taker_cost += cost
            else:
                record.maker_fees += fee
                record.maker_cost += cost
                record.remaining -= execution.count
                record.settle_state()
            member = self.member(name)
            position = member.position(execution.ticker)
            member.balance += position.fill(side, execution.count, execution.price, fee)
            self.fill_positions[(execution.trade_id, name)] = position.yes - position.no
            self.fees_collected += fee
            if not taker:
                held = member.reserved.get(order_id, ZERO) - execution.count * _unit_cost(side, execution.price)
                if held > 0 and order_id in market.book.orders:
                    member.reserved[order_id] = held
                else:
                    member.reserved.pop(order_id, None)
                    self._owners.pop(order_id, None)

    def _closed(self, order_id: str) -> None:
        """An order left the book unfilled (canceled, decreased to nothing, or by self-trade prevention)."""
        record = self.orders[order_id]
        record.remaining = ZERO
        record.settle_state()

    def _release(self, order: Resting) -> None:
        member = self.member(order.member)
        member.reserved.pop(order.order_id, None)
        self._owners.pop(order.order_id, None)


def _unit_cost(side: BookSide, price: Decimal) -> Decimal:
    """What one contract of an order costs at most: YES at the price for a bid, NO at 1 - price for an ask."""
    return price if side is BookSide.BID else ONE - price
