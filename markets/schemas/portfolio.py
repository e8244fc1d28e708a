"""The account's side: balance, positions, orders, fills, settlements and order groups.

Order mutations and their answers are in :mod:`markets.schemas.orders`.

Most amounts are fixed-point dollar strings (``*_dollars``, ``fee_cost``);
a few are still integer cents in the API (``balance``, ``portfolio_value``,
``Settlement.revenue`` and ``value``). Every one of them is Decimal dollars
here, whatever it was on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from markets.schemas.enums import Action, BookSide, MarketResult, OrderStatus, OrderType, Side
from markets.schemas.reader import Reader

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    balance: Decimal
    portfolio_value: Decimal
    updated_at: datetime | None


def parse_balance(data: object) -> Balance:
    r = Reader(data, "Balance")
    return Balance(
        balance=r.cents("balance"), portfolio_value=r.cents("portfolio_value"), updated_at=r.opt_epoch("updated_ts")
    )


@dataclass(frozen=True, slots=True)
class MarketPosition:
    """Our position in one market; ``position`` is negative for NO contracts."""

    ticker: str
    position: Decimal
    total_traded: Decimal
    market_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    last_updated: datetime | None


def parse_market_position(data: object) -> MarketPosition:
    r = Reader(data, "MarketPosition", "ticker")
    return MarketPosition(
        ticker=r.text("ticker"),
        position=r.count("position"),
        total_traded=r.price("total_traded"),
        market_exposure=r.price("market_exposure"),
        realized_pnl=r.price("realized_pnl"),
        fees_paid=r.price("fees_paid"),
        last_updated=r.opt_time("last_updated_ts"),
    )


@dataclass(frozen=True, slots=True)
class EventPosition:
    event_ticker: str
    total_cost: Decimal
    total_cost_shares: Decimal
    event_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal


def parse_event_position(data: object) -> EventPosition:
    r = Reader(data, "EventPosition", "event_ticker")
    return EventPosition(
        event_ticker=r.text("event_ticker"),
        total_cost=r.price("total_cost"),
        total_cost_shares=r.count("total_cost_shares"),
        event_exposure=r.price("event_exposure"),
        realized_pnl=r.price("realized_pnl"),
        fees_paid=r.price("fees_paid"),
    )


@dataclass(frozen=True, slots=True)
class Positions:
    """GET /portfolio/positions: positions per market and per event (one page, or all pages combined)."""

    market_positions: tuple[MarketPosition, ...]
    event_positions: tuple[EventPosition, ...]

    @classmethod
    def combine(cls, pages: list[Positions]) -> Positions:
        return cls(
            market_positions=tuple(p for page in pages for p in page.market_positions),
            event_positions=tuple(p for page in pages for p in page.event_positions),
        )


def parse_positions(data: object) -> Positions:
    r = Reader(data, "Positions response")
    return Positions(
        market_positions=tuple(parse_market_position(item) for item in r.array("market_positions")),
        event_positions=tuple(parse_event_position(item) for item in r.array("event_positions")),
    )


def _sides(r: Reader) -> tuple[Side, BookSide]:
    """(outcome_side, book_side), or the same derived from the legacy ``side``/``action`` pair.

    Buying YES is a bid and selling YES an ask; buying NO is an ask (selling YES) and selling NO a bid.
    """
    if r.has("book_side"):
        book_side = r.enum("book_side", BookSide)
        outcome = r.opt_enum("outcome_side", Side) or r.opt_enum("side", Side) or Side.YES
        return outcome, book_side
    side, action = r.enum("side", Side), r.enum("action", Action)
    buys_yes = (side is Side.YES) == (action is Action.BUY)
    return side, BookSide.BID if buys_yes else BookSide.ASK


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange sees it (GET /portfolio/orders). Prices are per contract of each side, in dollars.

    ``book_side`` is the order's side of the one YES book (V2's vocabulary);
    ``outcome_side`` the contract side Kalshi reports beside it.
    """

    order_id: str
    client_order_id: str
    ticker: str
    outcome_side: Side
    book_side: BookSide
    type: OrderType
    status: OrderStatus | str  # the raw text of a status newer than this code
    yes_price: Decimal
    no_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    initial_count: Decimal
    taker_fees: Decimal
    maker_fees: Decimal
    taker_fill_cost: Decimal
    maker_fill_cost: Decimal
    order_group_id: str | None
    created_time: datetime | None
    last_update_time: datetime | None
    expiration_time: datetime | None

    @property
    def fees(self) -> Decimal:
        return self.taker_fees + self.maker_fees


def parse_order(data: object) -> Order:
    r = Reader(data, "Order", "order_id")
    outcome_side, book_side = _sides(r)
    return Order(
        order_id=r.text("order_id"),
        client_order_id=r.opt_text("client_order_id"),
        ticker=r.text("ticker"),
        outcome_side=outcome_side,
        book_side=book_side,
        type=r.opt_enum("type", OrderType) or OrderType.LIMIT,
        status=r.open_enum("status", OrderStatus),
        yes_price=r.price("yes_price"),
        no_price=r.price("no_price"),
        fill_count=r.count("fill_count"),
        remaining_count=r.count("remaining_count"),
        initial_count=r.count("initial_count"),
        taker_fees=r.opt_price("taker_fees") or ZERO,
        maker_fees=r.opt_price("maker_fees") or ZERO,
        taker_fill_cost=r.opt_price("taker_fill_cost") or ZERO,
        maker_fill_cost=r.opt_price("maker_fill_cost") or ZERO,
        order_group_id=r.opt_text("order_group_id") or None,
        created_time=r.opt_time("created_time"),
        last_update_time=r.opt_time("last_update_time"),
        expiration_time=r.opt_time("expiration_time"),
    )


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders, with the fee actually charged.

    ``fee_cost`` is None on fills that predate it (production fills of January
    2026 have none): the fee is unknown, not zero.
    """

    fill_id: str
    trade_id: str
    order_id: str
    ticker: str
    outcome_side: Side
    book_side: BookSide
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    is_taker: bool
    created_time: datetime | None
    fee_cost: Decimal | None


def parse_fill(data: object) -> Fill:
    r = Reader(data, "Fill", "fill_id")
    outcome_side, book_side = _sides(r)
    return Fill(
        fill_id=r.text("fill_id"),
        trade_id=r.text("trade_id"),
        order_id=r.text("order_id"),
        ticker=r.opt_text("ticker") or r.text("market_ticker"),
        outcome_side=outcome_side,
        book_side=book_side,
        count=r.count("count"),
        yes_price=r.price("yes_price"),
        no_price=r.price("no_price"),
        is_taker=r.flag("is_taker"),
        created_time=r.opt_time("created_time") or r.opt_epoch("ts"),
        fee_cost=r.money("fee_cost"),
    )


@dataclass(frozen=True, slots=True)
class Settlement:
    """What one settled market paid us: revenue and ``value`` (per YES contract) in dollars."""

    ticker: str
    event_ticker: str
    market_result: MarketResult
    yes_count: Decimal
    yes_total_cost: Decimal
    no_count: Decimal
    no_total_cost: Decimal
    revenue: Decimal
    value: Decimal | None
    settled_time: datetime
    fee_cost: Decimal | None


def parse_settlement(data: object) -> Settlement:
    r = Reader(data, "Settlement", "ticker")
    return Settlement(
        ticker=r.text("ticker"),
        event_ticker=r.opt_text("event_ticker"),
        market_result=r.enum("market_result", MarketResult),
        yes_count=r.count("yes_count"),
        yes_total_cost=r.price("yes_total_cost"),
        no_count=r.count("no_count"),
        no_total_cost=r.price("no_total_cost"),
        revenue=r.cents("revenue"),
        value=r.opt_cents("value"),
        settled_time=r.time("settled_time"),
        fee_cost=r.money("fee_cost"),
    )


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """An exchange-side circuit breaker: at ``contracts_limit`` matched in 15 s, all its orders cancel."""

    id: str
    is_auto_cancel_enabled: bool
    contracts_limit: Decimal | None
    order_ids: tuple[str, ...]


def parse_order_group(data: object, *, order_group_id: str | None = None) -> OrderGroup:
    """An entry of GET /portfolio/order_groups, or GET /portfolio/order_groups/{id} (pass the id)."""
    r = Reader(data, "OrderGroup", "id", ident=order_group_id)
    return OrderGroup(
        id=order_group_id if order_group_id is not None else r.text("id"),
        is_auto_cancel_enabled=r.flag("is_auto_cancel_enabled"),
        contracts_limit=r.opt_count("contracts_limit"),
        order_ids=r.texts("orders"),
    )


def parse_order_groups(data: object) -> tuple[OrderGroup, ...]:
    r = Reader(data, "OrderGroups response")
    return tuple(parse_order_group(item) for item in r.array("order_groups"))


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """How many contracts must trade at a resting order's price before it starts to fill."""

    order_id: str
    ticker: str
    ahead: Decimal


def parse_queue_position(data: object) -> QueuePosition:
    r = Reader(data, "OrderQueuePosition", "order_id")
    return QueuePosition(order_id=r.text("order_id"), ticker=r.text("market_ticker"), ahead=r.count("queue_position"))


def parse_queue_positions(data: object) -> tuple[QueuePosition, ...]:
    return tuple(
        parse_queue_position(item) for item in Reader(data, "QueuePositions response").array("queue_positions")
    )
