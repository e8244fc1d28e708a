"""The simulated broker of a backtest: orders fill from the recorded tape, positions and cash in memory.

It takes the same order intents live trading sends to Kalshi, fills them
through a fill model (backtesting.fills), charges each fill its share of the
order's fee (trading.fees.OrderFees), nets positions as Kalshi does
(trading.ledger) and settles them on the market's result. Nothing is written
anywhere: a backtest never touches the live order tables.

Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from backtesting.fills import FillModel, SimFill, SimOrder
from backtesting.tape import MICROS, Tape, count_of, from_micros, price_of, to_micros
from markets.schemas.enums import Side
from trading.decisions import Holding, OrderIntent, Portfolio, WorkingOrder
from trading.fees import FeeSchedule, OrderFees
from trading.ledger import Position

ZERO = Decimal(0)


@dataclass(frozen=True)
class MarketInfo:
    """What the broker needs to know of a market to fill, book and settle it."""

    ticker: str
    event_ticker: str
    series_ticker: str
    city: str
    target_date: date
    close: int  # µs: resting orders expire at the close
    fees: FeeSchedule
    tape: Tape


@dataclass(frozen=True)
class FillRecord:
    """One fill of one of the backtest's orders, with the decision behind it."""

    client_order_id: str
    strategy: str
    series_ticker: str
    event_ticker: str
    ticker: str
    bought: Side
    count: Decimal
    price: Decimal  # of the side bought
    fee: Decimal
    taker: bool
    decided_at: datetime
    filled_at: datetime
    probability: float | None  # the probability the order was sized on
    expected_value: Decimal | None  # per contract after fees, at the decision
    reason: str


@dataclass
class _Working:
    intent: OrderIntent
    order: SimOrder
    fees: OrderFees
    decided_at: datetime


@dataclass
class SimulatedBroker:
    cash: Decimal
    fill_model: FillModel
    markets: Mapping[str, MarketInfo]
    positions: dict[str, Position] = field(default_factory=dict)
    fills: list[FillRecord] = field(default_factory=list)
    realized_by_day: dict[date, Decimal] = field(default_factory=dict)  # P&L realised per UTC day
    _working: dict[str, _Working] = field(default_factory=dict)

    def submit(self, intent: OrderIntent, *, at: datetime) -> None:
        """Place an approved intent at ``at``; a duplicate client order id is already placed and ignored."""
        if intent.client_order_id in self._working:
            return
        market = self.markets[intent.ticker]
        placed = to_micros(at)
        taker = intent.is_taker
        order = SimOrder(
            client_order_id=intent.client_order_id,
            ticker=intent.ticker,
            bought=intent.buys,
            limit=int(intent.own_price.scaleb(6)),
            remaining=int(intent.count.scaleb(2)),
            placed=placed,
            expires=min(placed + self.fill_model.taker_window(), market.close) if taker else market.close,
            taker=taker,
        )
        working = _Working(intent, order, OrderFees(market.fees), at)
        self._book(working, self.fill_model.open(order, market.tape))
        if order.remaining > 0 and order.expires > placed:
            self._working[intent.client_order_id] = working

    def cancel(self, client_order_id: str) -> None:
        self._working.pop(client_order_id, None)

    def cancel_event(self, event_ticker: str) -> None:
        for key in [k for k, w in self._working.items() if w.intent.event_ticker == event_ticker]:
            del self._working[key]

    def advance(self, until: datetime) -> None:
        """Fill working orders from every print up to ``until``; drop the finished and the expired."""
        end = to_micros(until)
        for key, working in list(self._working.items()):
            order = working.order
            self._book(working, self.fill_model.advance(order, self.markets[order.ticker].tape, end))
            if order.remaining <= 0 or order.expires <= end:
                del self._working[key]

    def settle(self, ticker: str, payout: Decimal, *, at: datetime) -> None:
        """Pay out a market at ``payout`` dollars per YES contract."""
        position = self.positions.get(ticker)
        if position is None or not position.is_open:
            return
        before = position.realized
        self.cash += position.settle(payout)
        self._realize(at, position.realized - before)
        del self.positions[ticker]  # settled for good: later decisions need not look at it again

    def portfolio(self, *, at: datetime, peak_equity: Decimal | None) -> Portfolio:
        """What a decision at ``at`` sees of its own account."""
        holdings = tuple(self._holding(t, p) for t, p in sorted(self.positions.items()) if p.is_open)
        working = tuple(self._working_order(w) for w in self._working.values() if w.order.remaining > 0)
        day_pnl = self.realized_by_day.get(at.astimezone(UTC).date(), ZERO)  # nothing later than ``at`` is booked
        return Portfolio(self.cash, holdings, working, day_pnl, peak_equity)

    def equity(self) -> Decimal:
        return self.cash + sum((p.cost for p in self.positions.values()), ZERO)

    def _book(self, working: _Working, fills: list[SimFill]) -> None:
        intent = working.intent
        market = self.markets[intent.ticker]
        for fill in fills:
            count, price, filled_at = count_of(fill.count), price_of(fill.price), from_micros(fill.at)
            fee = working.fees.charge(count, price, taker=intent.is_taker, at=filled_at)
            position = self.positions.setdefault(intent.ticker, Position())
            before = position.realized
            yes_price = price if intent.buys is Side.YES else price_of(MICROS - fill.price)
            self.cash += position.fill(intent.side, count, yes_price, fee)
            self._realize(filled_at, position.realized - before)
            self.fills.append(
                FillRecord(
                    client_order_id=intent.client_order_id,
                    strategy=intent.strategy,
                    series_ticker=market.series_ticker,
                    event_ticker=intent.event_ticker,
                    ticker=intent.ticker,
                    bought=intent.buys,
                    count=count,
                    price=price,
                    fee=fee,
                    taker=intent.is_taker,
                    decided_at=working.decided_at,
                    filled_at=filled_at,
                    probability=intent.probability,
                    expected_value=intent.expected_value,
                    reason=intent.reason,
                )
            )

    def _holding(self, ticker: str, position: Position) -> Holding:
        market = self.markets[ticker]
        return Holding(
            ticker, market.event_ticker, market.city, market.target_date, position.yes, position.no, position.cost
        )

    def _working_order(self, working: _Working) -> WorkingOrder:
        intent, market = working.intent, self.markets[working.intent.ticker]
        return WorkingOrder(
            client_order_id=intent.client_order_id,
            ticker=intent.ticker,
            event_ticker=intent.event_ticker,
            city=market.city,
            target_date=market.target_date,
            side=intent.side,
            price=intent.price,
            remaining=count_of(working.order.remaining),
            post_only=intent.post_only,
            placed_at=working.decided_at,
            strategy=intent.strategy,
        )

    def _realize(self, at: datetime, amount: Decimal) -> None:
        day = at.astimezone(UTC).date()
        self.realized_by_day[day] = self.realized_by_day.get(day, ZERO) + amount
