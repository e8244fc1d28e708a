"""What a decision sees and what it decides: the snapshot, order intents, and the reason for every pass.

One snapshot shape serves live trading (built from the database and the live
book) and backtests (built from recorded history up to the decision time), so
both call the same strategies and the same risk rules. Intents are in Kalshi's
current (V2) order form: one YES book, ``bid`` buys YES and ``ask`` sells YES
(buying NO at q is an ask at 1 - q), fixed-point prices and counts.

Pure: no Django.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from markets.brackets import Bracket
from markets.schemas.enums import BookSide, SelfTradePrevention, Side, TimeInForce
from markets.schemas.orders import CreateOrderRequest
from prediction.scoring import normalise_prices
from trading.fees import FeeSchedule
from trading.limits import Limits, Rule, TradingStatus

ONE = Decimal(1)
ZERO = Decimal(0)
_INTENT_NAMESPACE = uuid.UUID("5f0c2a59-8d7e-4c1b-9a41-6b6f3d0b8a11")


def side_name(side: Side) -> str:
    """How a person writes a contract side: YES, NO."""
    return side.value.upper()


def book_side(buy: Side) -> BookSide:
    """The V2 book side that buys ``buy``: a bid buys YES, an ask (selling YES) buys NO."""
    return BookSide.BID if buy is Side.YES else BookSide.ASK


def yes_price(buy: Side, price: Decimal) -> Decimal:
    """The YES-book price of an order buying ``buy`` at ``price`` (its own side's price)."""
    return price if buy is Side.YES else ONE - price


@dataclass(frozen=True)
class Quote:
    """The YES book's best prices as the decision saw them, with when each was last seen.

    A NO contract is bought at 1 - yes_bid and sold at 1 - yes_ask. Sizes are
    None when unknown (a backtest reads prices from the tape, not a book).
    """

    yes_bid: Decimal | None = None
    yes_ask: Decimal | None = None
    yes_bid_size: Decimal | None = None
    yes_ask_size: Decimal | None = None
    last_price: Decimal | None = None
    bid_at: datetime | None = None
    ask_at: datetime | None = None

    def cost(self, buy: Side) -> Decimal | None:
        """What one contract of ``buy`` costs a taker now (before fees)."""
        if buy is Side.YES:
            return self.yes_ask
        return None if self.yes_bid is None else ONE - self.yes_bid

    def bid(self, buy: Side) -> Decimal | None:
        """The best resting bid for ``buy`` (a maker joining it buys at this price)."""
        if buy is Side.YES:
            return self.yes_bid
        return None if self.yes_ask is None else ONE - self.yes_ask

    def size(self, buy: Side) -> Decimal | None:
        """Contracts displayed at the price a taker of ``buy`` would pay."""
        return self.yes_ask_size if buy is Side.YES else self.yes_bid_size

    def seen_at(self, buy: Side) -> datetime | None:
        return self.ask_at if buy is Side.YES else self.bid_at


def market_price(quote: Quote) -> Decimal | None:
    """The market's price of YES for the baseline: the mid of a two-sided quote, else the last print."""
    if quote.yes_bid is not None and quote.yes_ask is not None and quote.yes_ask > quote.yes_bid:
        return (quote.yes_bid + quote.yes_ask) / 2
    return quote.last_price


def market_probabilities(quotes: Sequence[Quote]) -> list[float] | None:
    """An event's quotes as the market's probabilities of its brackets (None when no bracket has a price).

    One definition for live trading and backtests, so a strategy that leans on
    the market sizes the same on the same prices.
    """
    prices = [market_price(q) for q in quotes]
    return normalise_prices(prices) if any(p is not None for p in prices) else None


@dataclass(frozen=True)
class MarketView:
    ticker: str
    bracket: Bracket
    quote: Quote
    probability: float | None = None  # the model's P(YES) at the decision
    market_probability: float | None = None  # the market's price, normalised over the event


@dataclass(frozen=True)
class EventView:
    event_ticker: str
    series_ticker: str
    city: str
    target_date: date
    fees: FeeSchedule
    markets: tuple[MarketView, ...]  # the event's brackets, lowest first: exactly one resolves YES
    close_time: datetime | None = None
    model: str = ""  # what produced the probabilities


@dataclass(frozen=True)
class Holding:
    """Contracts held in one market (Kalshi nets YES against NO, so one of the two is zero)."""

    ticker: str
    event_ticker: str
    city: str
    target_date: date
    yes: Decimal = ZERO
    no: Decimal = ZERO
    cost: Decimal = ZERO  # what the open contracts cost, before fees

    def contracts(self, buy: Side) -> Decimal:
        return self.yes if buy is Side.YES else self.no


@dataclass(frozen=True)
class WorkingOrder:
    """An order of ours still able to fill: resting on the book, or a taker order not yet done."""

    client_order_id: str
    ticker: str
    event_ticker: str
    city: str
    target_date: date
    side: BookSide
    price: Decimal  # YES-book price
    remaining: Decimal
    post_only: bool
    placed_at: datetime
    strategy: str = ""

    @property
    def buys(self) -> Side:
        return Side.YES if self.side is BookSide.BID else Side.NO

    @property
    def reserved(self) -> Decimal:
        """Dollars the order can still spend (its own side's price per remaining contract)."""
        return self.remaining * yes_price(self.buys, self.price)


@dataclass(frozen=True)
class Portfolio:
    cash: Decimal  # balance, including what working orders have reserved
    holdings: tuple[Holding, ...] = ()
    working: tuple[WorkingOrder, ...] = ()
    day_pnl: Decimal = ZERO  # realised since the start of the decision's UTC day
    peak_equity: Decimal | None = None  # for the drawdown limit; None: the equity now
    # Markets with an order whose outcome at the exchange is unknown: nothing more is placed on them
    # until reconciliation says what happened to it.
    blocked: frozenset[str] = frozenset()

    @property
    def reserved(self) -> Decimal:
        return sum((order.reserved for order in self.working), ZERO)

    @property
    def available(self) -> Decimal:
        """Cash a new order may spend."""
        return self.cash - self.reserved

    @property
    def equity(self) -> Decimal:
        """Cash plus open positions at cost (positions are not marked to market)."""
        return self.cash + sum((h.cost for h in self.holdings), ZERO)

    def holding(self, ticker: str) -> Holding | None:
        return next((h for h in self.holdings if h.ticker == ticker), None)


@dataclass(frozen=True)
class Snapshot:
    """Everything a decision at ``as_of`` may use, and nothing it may not."""

    as_of: datetime
    events: tuple[EventView, ...]
    portfolio: Portfolio
    limits: Limits
    status: TradingStatus


@dataclass(frozen=True)
class OrderIntent:
    """An order we want placed, in Kalshi's V2 form, with why we want it."""

    ticker: str
    event_ticker: str
    side: BookSide
    price: Decimal  # YES-book price, fixed point
    count: Decimal
    time_in_force: TimeInForce
    post_only: bool
    client_order_id: str
    strategy: str
    reason: str
    reduce_only: bool = False
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    probability: float | None = None  # the probability the size was chosen on
    expected_value: Decimal | None = None  # per contract, after fees

    @property
    def buys(self) -> Side:
        return Side.YES if self.side is BookSide.BID else Side.NO

    @property
    def own_price(self) -> Decimal:
        """The price of the side bought (a NO bought via an ask at 0.93 costs 0.07)."""
        return yes_price(self.buys, self.price)

    @property
    def is_taker(self) -> bool:
        return not self.post_only

    def order_request(self) -> CreateOrderRequest:
        """The V2 create request the Kalshi client sends for this intent: the same fields, nothing translated.

        Raises ValueError for what Kalshi would refuse (no client order id yet,
        reduce-only without immediate-or-cancel, a price off the $0.001 grid).
        """
        return CreateOrderRequest(
            ticker=self.ticker,
            side=self.side,
            price=self.price,
            count=self.count,
            client_order_id=self.client_order_id,
            time_in_force=self.time_in_force,
            self_trade_prevention=self.self_trade_prevention,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
        )


def client_order_id(
    *, strategy: str, ticker: str, side: BookSide, price: Decimal, count: Decimal, as_of: datetime
) -> str:
    """The same intent always gets the same id, so placing it twice is answered as "already placed"."""
    key = f"{strategy}|{ticker}|{side}|{price.normalize()}|{count.normalize()}|{as_of.isoformat()}"
    return str(uuid.uuid5(_INTENT_NAMESPACE, key))


@dataclass(frozen=True)
class Pass:
    """A market (or a whole event) the decision did not trade, and why."""

    ticker: str
    reason: str
    rules: tuple[Rule, ...] = ()  # the risk rules that refused it, when risk did


@dataclass(frozen=True)
class Decision:
    as_of: datetime
    strategy: str
    intents: tuple[OrderIntent, ...] = ()
    cancels: tuple[str, ...] = ()  # client order ids of working orders to cancel
    passes: tuple[Pass, ...] = ()

    def passed(self, ticker: str) -> list[str]:
        return [p.reason for p in self.passes if p.ticker == ticker]
