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

The exchange also keeps what the account endpoints report: every fill of
every order, per-market traded totals, settlement rows, order groups
(localexchange.groups), and a historical cutoff before which fills and
finished orders are served only by the /historical endpoints.

Pure: no Django; times come in as arguments (the few that may be left out
default to the wall clock).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from localexchange.groups import OrderGroup
from localexchange.matching import ONE, ZERO, Book, Execution, LevelChange, NewOrder, OrderRefused, Placed, Resting
from markets.schemas.enums import BookSide
from trading.fees import FeeSchedule, OrderFees
from trading.ledger import Position


@dataclass
class Member:
    balance: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)
    reserved: dict[str, Decimal] = field(default_factory=dict)  # resting order id → collateral held for it
    traded: dict[str, Decimal] = field(default_factory=dict)  # ticker → dollars spent on fills there
    contracts: dict[str, Decimal] = field(default_factory=dict)  # ticker → contracts traded there
    updated: dict[str, datetime] = field(default_factory=dict)  # ticker → when the position last changed

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
    order_group_id: str | None = None
    updated: datetime | None = None  # the last fill, decrease or cancel

    def settle_state(self) -> None:
        if self.remaining:
            self.status = "resting"
        else:
            self.status = "executed" if self.filled == self.initial else "canceled"


@dataclass(frozen=True)
class FillRecord:
    """One member's side of one execution (GET /portfolio/fills); Kalshi's fill_id is the trade's id."""

    trade_id: str
    order_id: str
    member: str
    ticker: str
    side: BookSide  # this member's side of the YES book
    price: Decimal  # YES price
    count: Decimal
    is_taker: bool
    fee: Decimal
    at: datetime


@dataclass(frozen=True)
class SettlementRecord:
    """What one settled market paid one member (GET /portfolio/settlements); money in dollars."""

    member: str
    ticker: str
    event_ticker: str
    result: str
    yes_count: Decimal
    yes_cost: Decimal
    no_count: Decimal
    no_cost: Decimal
    revenue: Decimal
    fees: Decimal
    at: datetime


@dataclass
class Market:
    book: Book
    fees: FeeSchedule
    event_ticker: str
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
        self.fills: list[FillRecord] = []  # oldest first
        self.settlements: list[SettlementRecord] = []  # oldest first
        self.groups: dict[str, OrderGroup] = {}
        self.trading_active = True  # False: a trading halt (GET /exchange/status says so; orders are refused)
        self._group_ids: Iterator[int] = itertools.count(1)
        self._client_ids: dict[tuple[str, str], str] = {}  # (member, client order id) → order id
        self.historical_cutoff: datetime | None = None  # older fills and finished orders are history

    def open_market(self, ticker: str, fees: FeeSchedule, *, event_ticker: str | None = None) -> None:
        """Open a market; its event is the ticker less its last part (KXHIGHNY-25FEB20-B44.5 → KXHIGHNY-25FEB20)."""
        if ticker in self.markets:
            raise OrderRefused("market_exists", f"market {ticker} is open already")
        self.markets[ticker] = Market(Book(ticker), fees, event_ticker or ticker.rsplit("-", 1)[0])

    def set_historical_cutoff(self, at: datetime | None) -> None:
        """Move the historical cutoff: fills before it, and orders finished before it, become history only.

        None (the default) keeps everything live. Resting orders are always live.
        """
        self.historical_cutoff = at

    def is_historical(self, moment: datetime | None) -> bool:
        return self.historical_cutoff is not None and moment is not None and moment < self.historical_cutoff

    def fills_of(self, member: str, *, historical: bool) -> list[FillRecord]:
        """A member's fills, newest first: the live ones, or those before the historical cutoff."""
        return [f for f in reversed(self.fills) if f.member == member and self.is_historical(f.at) is historical]

    def orders_of(self, member: str, *, historical: bool) -> list[OrderRecord]:
        """A member's orders, newest first: the live ones, or those finished before the historical cutoff."""
        return [
            record
            for record in reversed(self.orders.values())
            if record.member == member
            and (record.status != "resting" and self.is_historical(record.updated)) is historical
        ]

    def deposit(self, member: str, amount: Decimal) -> None:
        if amount <= 0:
            raise ValueError(f"a deposit is positive, got {amount}")
        self.member(member).balance += amount

    def member(self, name: str) -> Member:
        return self.members.setdefault(name, Member())

    def place(self, order: NewOrder, *, at: datetime) -> Placed:
        """Match an order, move the money of its fills, reserve what rests; OrderRefused changes nothing."""
        if not self.trading_active:
            raise OrderRefused("trading_is_paused", "trading is paused on the exchange")
        market = self._open(order.ticker)
        order.check()
        if order.client_order_id and (order.member, order.client_order_id) in self._client_ids:
            existing = self._client_ids[(order.member, order.client_order_id)]
            raise OrderRefused(
                "order_already_exists", f"order {existing} has client_order_id {order.client_order_id} already"
            )
        group = self.order_group(order.member, order.order_group_id) if order.order_group_id else None
        if group is not None and group.triggered:
            raise OrderRefused("order_group_triggered", f"order group {group.group_id} is triggered until reset")
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
            order_id, order.member, order.ticker, order.side, order.price, order.count, order.client_order_id, at,
            order_group_id=order.order_group_id, updated=at,
        )  # fmt: skip
        if order.client_order_id:
            self._client_ids[(order.member, order.client_order_id)] = order_id
        if group is not None:
            group.order_ids.append(order_id)
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
            self._closed(maker.order_id, at)
        self._check_groups(placed, at)
        return placed

    def cancel(self, member: str, order_id: str, *, at: datetime | None = None) -> tuple[Resting, LevelChange]:
        owner = self._owners.get(order_id)
        if owner is None or owner[0] != member:
            raise OrderRefused("order_not_found", f"{member} has no resting order {order_id}")
        return self._cancel(order_id, _now(at))

    def cancel_all(self, member: str, *, at: datetime | None = None) -> list[tuple[str, LevelChange]]:
        """Cancel every resting order of a member; (ticker, change) for each."""
        mine = [order_id for order_id, (name, _) in self._owners.items() if name == member]
        return self._cancel_each(mine, _now(at))

    def _cancel(self, order_id: str, at: datetime) -> tuple[Resting, LevelChange]:
        _, ticker = self._owners[order_id]
        order, change = self.markets[ticker].book.cancel(order_id)
        self._release(order)
        self._closed(order_id, at)
        return order, change

    def _cancel_each(self, order_ids: list[str], at: datetime) -> list[tuple[str, LevelChange]]:
        changes = []
        for order_id in order_ids:
            if order_id in self._owners:
                ticker = self._owners[order_id][1]
                changes.append((ticker, self._cancel(order_id, at)[1]))
        return changes

    # Order groups -------------------------------------------------------------------------------

    def create_order_group(self, member: str, limit: Decimal | None) -> str:
        if limit is not None and limit <= 0:
            raise OrderRefused("invalid_parameters", f"contracts_limit must be positive, got {limit}")
        group_id = f"grp-{next(self._group_ids)}"
        self.groups[group_id] = OrderGroup(group_id, member, limit)
        return group_id

    def order_group(self, member: str, group_id: str) -> OrderGroup:
        group = self.groups.get(group_id)
        if group is None or group.member != member:
            raise OrderRefused("order_group_not_found", f"{member} has no order group {group_id}")
        return group

    def trigger_order_group(
        self, member: str, group_id: str, *, at: datetime | None = None
    ) -> list[tuple[str, LevelChange]]:
        """Cancel the group's resting orders and refuse new ones until reset; (ticker, change) per cancel."""
        group = self.order_group(member, group_id)
        group.triggered = True
        return self._cancel_each(group.order_ids, _now(at))

    def reset_order_group(self, member: str, group_id: str) -> None:
        self.order_group(member, group_id).reset()

    def set_order_group_limit(
        self, member: str, group_id: str, limit: Decimal, *, at: datetime | None = None
    ) -> list[tuple[str, LevelChange]]:
        """A new limit; one the window's matches already reach triggers the group at once."""
        if limit <= 0:
            raise OrderRefused("invalid_parameters", f"contracts_limit must be positive, got {limit}")
        group = self.order_group(member, group_id)
        group.limit = limit
        if group.over_limit(_now(at)):
            return self.trigger_order_group(member, group_id, at=at)
        return []

    def delete_order_group(
        self, member: str, group_id: str, *, at: datetime | None = None
    ) -> list[tuple[str, LevelChange]]:
        """Cancel every order of the group and forget it."""
        group = self.order_group(member, group_id)
        changes = self._cancel_each(group.order_ids, _now(at))
        del self.groups[group_id]
        return changes

    def _check_groups(self, placed: Placed, at: datetime) -> None:
        """Count what the groups' orders matched; trip each group that reached its limit."""
        touched: dict[str, OrderGroup] = {}
        for execution in placed.executions:
            for order_id in (execution.taker_order_id, execution.maker_order_id):
                group_id = self.orders[order_id].order_group_id
                group = self.groups.get(group_id) if group_id else None
                if group is not None:
                    group.matched(execution.count, at)
                    touched[group.group_id] = group
        for group in touched.values():
            if not group.triggered and group.over_limit(at):
                group.triggered = True
                placed.group_cancels.extend(self._cancel_each(group.order_ids, at))
                if placed.resting and placed.order_id not in self._owners:  # the new order went too
                    placed.canceled += placed.resting
                    placed.resting = ZERO

    def owner_of(self, order_id: str) -> tuple[str, str] | None:
        """The member and market of a resting order."""
        return self._owners.get(order_id)

    def decrease(
        self, member: str, order_id: str, *, by: Decimal, at: datetime | None = None
    ) -> tuple[Resting, LevelChange]:
        """Reduce a member's resting order by ``by`` (all of it cancels), releasing its collateral."""
        owner = self._owners.get(order_id)
        if owner is None or owner[0] != member:
            raise OrderRefused("order_not_found", f"{member} has no resting order {order_id}")
        order, change = self.markets[owner[1]].book.decrease(order_id, by=by)
        if order.order_id in self.markets[owner[1]].book.orders:
            self.member(member).reserved[order_id] = order.remaining * _unit_cost(order.side, order.price)
            self.orders[order_id].remaining = order.remaining
            self.orders[order_id].updated = _now(at)
        else:
            self._release(order)
            self._closed(order_id, _now(at))
        return order, change

    def settle(self, ticker: str, result: str, *, at: datetime | None = None) -> dict[str, Decimal]:
        """Settle a market at ``result`` ("yes" or "no"): cancel what rests, pay the holders; cash paid by member.

        Each member who held contracts gets a settlement row (GET /portfolio/settlements).
        """
        market = self._open(ticker)
        if result not in ("yes", "no"):
            raise ValueError(f"a market settles yes or no, got {result!r}")
        at = _now(at)
        for order_id in list(market.book.orders):
            self._cancel(order_id, at)
        payout = ONE if result == "yes" else ZERO
        paid: dict[str, Decimal] = {}
        for name, member in self.members.items():
            position = member.positions.get(ticker)
            if position is not None and position.is_open:
                yes, no, cost = position.yes, position.no, position.cost
                cash = position.settle(payout)
                member.balance += cash
                member.updated[ticker] = at
                paid[name] = cash
                self.settlements.append(
                    SettlementRecord(
                        name, ticker, market.event_ticker, result, yes, cost if yes else ZERO, no,
                        cost if no else ZERO, cash, position.fees, at,
                    )
                )  # fmt: skip
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
            record.updated = at
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
            member.traded[execution.ticker] = member.traded.get(execution.ticker, ZERO) + cost
            member.contracts[execution.ticker] = member.contracts.get(execution.ticker, ZERO) + execution.count
            member.updated[execution.ticker] = at
            self.fills.append(
                FillRecord(execution.trade_id, order_id, name, execution.ticker, side, execution.price,
                           execution.count, taker, fee, at)
            )  # fmt: skip
            self.fill_positions[(execution.trade_id, name)] = position.yes - position.no
            self.fees_collected += fee
            if not taker:
                held = member.reserved.get(order_id, ZERO) - execution.count * _unit_cost(side, execution.price)
                if held > 0 and order_id in market.book.orders:
                    member.reserved[order_id] = held
                else:
                    member.reserved.pop(order_id, None)
                    self._owners.pop(order_id, None)

    def _closed(self, order_id: str, at: datetime) -> None:
        """An order left the book unfilled (canceled, decreased to nothing, or by self-trade prevention)."""
        record = self.orders[order_id]
        record.remaining = ZERO
        record.updated = at
        record.settle_state()

    def _release(self, order: Resting) -> None:
        member = self.member(order.member)
        member.reserved.pop(order.order_id, None)
        self._owners.pop(order.order_id, None)


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


def _unit_cost(side: BookSide, price: Decimal) -> Decimal:
    """What one contract of an order costs at most: YES at the price for a bid, NO at 1 - price for an ask."""
    return price if side is BookSide.BID else ONE - price
