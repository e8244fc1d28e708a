"""The paper broker of DRY mode: real books and real trades, paper orders, real fees.

* A taker order walks the book as it stood when it was placed (the latest
  stored book at or before that moment): level by level, best first, while
  the price is within its limit; what is left is cancelled (immediate or
  cancel).
* A resting order joins the back of the queue at its price (the size already
  displayed there is ahead of it) and fills only from trades of the other
  side made *after* it was placed, by the rule the backtest uses
  (trading.queue): the print that prompted the decision never fills it.
* A post-only order that would cross is refused, as Kalshi refuses it.
* Fees are each fill's share of the order's rounded-up fee (trading.fees.OrderFees).

Nothing is sent anywhere: the orders, fills and positions are the DRY ledger's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from kalshiweb.modes import TradingMode
from markets.models import Market, OrderBookSnapshot, Trade
from markets.schemas.enums import BookSide, Side
from trading.accounting import FillReport
from trading.brokers.base import Placement
from trading.decisions import yes_price
from trading.fees import FeeSchedule, OrderFees
from trading.models import Fill, Order
from trading.queue import resting_fill
from trading.snapshot import fee_schedule

ZERO = Decimal(0)
ONE = Decimal(1)
Level = tuple[Decimal, Decimal]  # (price of the side bought, contracts)


class PaperBroker:
    mode = TradingMode.DRY

    def __init__(self) -> None:
        # Within one broker's life (a cycle), a market's book at a moment and its fee schedule do not change.
        self._books: dict[tuple[str, datetime], OrderBookSnapshot | None] = {}
        self._schedules: dict[str, FeeSchedule] = {}

    def trading_active(self) -> bool | None:
        return None  # the paper book never closes; the markets' own hours bound what is decided

    def prepare(self, orders: Sequence[Order], *, now: datetime) -> None:
        """Read the latest book of every market about to be traded, in one query."""
        wanted = {o.ticker for o in orders} - {t for t, at in self._books if at == now}
        markets = Market.objects.filter(ticker__in=wanted).values_list("pk", flat=True)
        newest = OrderBookSnapshot.objects.newest_per_market(list(markets), now).select_related("market")
        found = {book.market.ticker: book for book in newest}
        for ticker in wanted:
            self._books[(ticker, now)] = found.get(ticker)

    def place(self, order: Order, *, now: datetime) -> Placement:
        if order.exchange_order_id:
            return Placement(Order.Status(order.status), order.exchange_order_id, reason="already placed")
        exchange_id = f"paper-{order.client_order_id}"
        key = (order.ticker, now)
        if key not in self._books:
            self._books[key] = _book_at(order.ticker, now)
        book = self._books[key]
        offers = _offers(book, order)
        if order.post_only:
            if offers and offers[0][0] <= order.own_price:
                return Placement(Order.Status.REJECTED, exchange_id, ZERO, ZERO, reason="post-only order would cross")
            queue = _queued_at(book, order)
            return Placement(
                Order.Status.RESTING, exchange_id, ZERO, order.count, queue_ahead=queue, trades_read_until=now
            )
        fills = self._take(order, offers, exchange_id, now)
        filled = sum((f.count for f in fills), ZERO)
        status = Order.Status.EXECUTED if filled > 0 else Order.Status.CANCELED
        reason = "" if filled == order.count else _unfilled(book, order, filled)
        return Placement(status, exchange_id, filled, ZERO, tuple(fills), reason=reason)

    def _take(self, order: Order, offers: Sequence[Level], exchange_id: str, now: datetime) -> list[FillReport]:
        fees = self._order_fees(order)
        left, fills = order.count, list[FillReport]()
        for price, size in offers:
            if left <= 0 or price > order.own_price:
                break
            count = min(left, size)
            left -= count
            fee = fees.charge(count, price, taker=True, at=now)
            fills.append(_report(order, exchange_id, len(fills), count, price, fee, taker=True, at=now))
        return fills

    def _order_fees(self, order: Order) -> OrderFees:
        """The order's fee so far, replayed from its fills, so the next fill pays its share of the rounded total."""
        if order.ticker not in self._schedules:
            market = order.market or Market.objects.select_related("event__series").get(ticker=order.ticker)
            self._schedules[order.ticker] = fee_schedule(market.event, [market])
        fees = OrderFees(self._schedules[order.ticker])
        if order.filled_count > 0:
            for fill in Fill.objects.filter(order=order).order_by("created_time", "trade_id"):
                fees.charge(fill.count, fill.own_price, taker=fill.is_taker, at=fill.created_time)
        return fees

    def cancel(self, order: Order, *, now: datetime) -> Placement:
        return Placement(Order.Status.CANCELED, order.exchange_order_id, order.filled_count, ZERO, reason="cancelled")

    def catch_up(self, *, now: datetime) -> list[tuple[Order, Placement]]:
        """Fill resting DRY orders from the trades since they were last read; cancel those whose market closed."""
        changes = []
        for order in Order.objects.filter(mode=self.mode, status=Order.Status.RESTING).select_related("market"):
            placement = self._advance(order, now)
            if placement is not None:
                changes.append((order, placement))
        return changes

    def _advance(self, order: Order, now: datetime) -> Placement | None:
        since = order.trades_read_until or order.submitted_at or order.created_at
        closes = order.market.close_time if order.market else None
        until = min(now, closes) if closes else now
        fills = self._queue_fills(order, since, until) if until > since else []
        filled = order.filled_count + sum((f.count for f in fills), ZERO)
        remaining = order.count - filled
        if remaining <= 0:
            return Placement(Order.Status.EXECUTED, order.exchange_order_id, filled, ZERO, tuple(fills))
        if closes is not None and closes <= now:
            return Placement(
                Order.Status.CANCELED, order.exchange_order_id, filled, ZERO, tuple(fills), reason="market closed"
            )
        return Placement(
            Order.Status.RESTING,
            order.exchange_order_id,
            filled,
            remaining,
            tuple(fills),
            queue_ahead=order.queue_ahead,
            trades_read_until=until,
        )

    def _queue_fills(self, order: Order, since: datetime, until: datetime) -> list[FillReport]:
        """Fills from takers of the other side after ``since`` up to ``until``, by the shared queue rule."""
        takers_of = Side.NO if order.buys is Side.YES else Side.YES
        trades = Trade.objects.filter(
            market__ticker=order.ticker, taker_side=takers_of.value, created_time__gt=since, created_time__lte=until
        ).order_by("created_time", "trade_id")
        fees = self._order_fees(order)
        queue = order.queue_ahead or ZERO
        remaining = order.count - order.filled_count
        limit = order.own_price
        fills: list[FillReport] = []
        index = Fill.objects.filter(order=order).count()
        for trade in trades:
            if remaining <= 0:
                break
            ours = ONE - (trade.no_price if takers_of is Side.NO else trade.yes_price)  # their price, in our terms
            count, queue = resting_fill(
                limit=limit, price=ours, size=trade.count, queue_ahead=queue, remaining=remaining
            )
            if count > 0:
                remaining -= count
                fee = fees.charge(count, limit, taker=False, at=trade.created_time)
                fills.append(
                    _report(
                        order, order.exchange_order_id, index, count, limit, fee, taker=False, at=trade.created_time
                    )
                )
                index += 1
        order.queue_ahead = queue
        return fills


def _book_at(ticker: str, now: datetime) -> OrderBookSnapshot | None:
    return (
        OrderBookSnapshot.objects.filter(market__ticker=ticker, captured_at__lte=now).order_by("-captured_at").first()
    )


def _levels(levels: Sequence[Sequence[str]]) -> list[Level]:
    return [(Decimal(p), Decimal(s)) for p, s in levels]


def _offers(book: OrderBookSnapshot | None, order: Order) -> list[Level]:
    """What a taker buying the order's side can lift, cheapest first, in that side's prices.

    Kalshi's books hold bids only: buying YES lifts NO bids at 1 - p, buying NO lifts YES bids at 1 - p.
    """
    if book is None:
        return []
    other = book.no_bids if order.buys is Side.YES else book.yes_bids
    return sorted((ONE - price, size) for price, size in _levels(other))


def _queued_at(book: OrderBookSnapshot | None, order: Order) -> Decimal:
    """Contracts already bid at the order's price on its own side: they fill before it."""
    if book is None:
        return ZERO
    own = book.yes_bids if order.buys is Side.YES else book.no_bids
    return sum((size for price, size in _levels(own) if price == order.own_price), ZERO)


def _unfilled(book: OrderBookSnapshot | None, order: Order, filled: Decimal) -> str:
    if book is None:
        return "no order book stored for this market yet: nothing to take"
    return f"filled {filled:g} of {order.count:g}: the book offered no more at ${order.own_price:.2f} or better"


def _report(
    order: Order,
    exchange_id: str,
    index: int,
    count: Decimal,
    price: Decimal,
    fee: Decimal,
    *,
    taker: bool,
    at: datetime,
) -> FillReport:
    side = BookSide(order.book_side)
    return FillReport(
        trade_id=f"{exchange_id}-{index}",  # the same order's n-th fill is always the same trade
        ticker=order.ticker,
        book_side=side,
        price=yes_price(order.buys, price),
        count=count,
        fee=fee,
        is_taker=taker,
        created_time=at,
        exchange_order_id=exchange_id,
        client_order_id=order.client_order_id,
    )
