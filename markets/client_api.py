"""One method per Kalshi endpoint, on top of a client's generic fetch/submit/iterate.

Each method is a one-line call of the endpoint description in
:mod:`markets.endpoints`. Methods that change state are decorated with
:func:`mutating`: they return the parsed answer, or a
:class:`~markets.calls.DryRunResult` in DRY mode; the test of DRY mode finds
them by that mark, so a new mutating method is covered once it is marked.

List methods (``iter_*``) are generators: pages are fetched as the caller
consumes items. ``page_size`` defaults to the client's, clamped to the
endpoint's maximum. Times are aware datetimes (sent as Unix seconds).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from markets import endpoints
from markets.calls import Command, DryRunResult, Page, Paged, Query
from markets.schemas import (
    AccountLimits,
    AmendOrderRequest,
    Balance,
    BatchItem,
    Candlestick,
    CandlestickInterval,
    CreateOrderRequest,
    Event,
    EventStatusFilter,
    ExchangeSchedule,
    ExchangeStatus,
    Fill,
    HistoricalCutoff,
    Market,
    MarketStatusFilter,
    Order,
    OrderAnswer,
    Orderbook,
    OrderGroup,
    OrderStatus,
    Positions,
    QueuePosition,
    Series,
    SeriesFeeChange,
    Settlement,
    Trade,
)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
MUTATING = "__kalshi_mutating__"


def mutating(method: F) -> F:
    """Mark a method that changes state on the exchange (see the DRY-mode test)."""
    setattr(method, MUTATING, True)
    return method


def is_mutating(method: object) -> bool:
    return bool(getattr(method, MUTATING, False))


class ExchangeApi(ABC):
    """The endpoint surface; subclasses provide the four generic operations."""

    @abstractmethod
    def fetch(self, query: Query[T]) -> T: ...

    @abstractmethod
    def submit(self, command: Command[T]) -> T | DryRunResult: ...

    @abstractmethod
    def pages(self, paged: Paged[T], *, page_size: int | None = None) -> Iterator[Page[T]]: ...

    @abstractmethod
    def iterate(self, paged: Paged[T], *, page_size: int | None = None) -> Iterator[T]: ...

    # --- exchange and series -----------------------------------------------------------------

    def get_exchange_status(self) -> ExchangeStatus:
        return self.fetch(endpoints.exchange_status())

    def get_exchange_schedule(self) -> ExchangeSchedule:
        return self.fetch(endpoints.exchange_schedule())

    def get_user_data_timestamp(self) -> datetime:
        """When our balance, orders, fills and positions were last brought up to date."""
        return self.fetch(endpoints.user_data_timestamp())

    def list_series(self, *, category: str | None = None, tags: Sequence[str] | None = None) -> tuple[Series, ...]:
        return self.fetch(endpoints.series_list(category=category, tags=tags))

    def get_series(self, series_ticker: str) -> Series:
        return self.fetch(endpoints.series(series_ticker))

    def list_series_fee_changes(
        self, *, series_ticker: str | None = None, show_historical: bool = False
    ) -> tuple[SeriesFeeChange, ...]:
        return self.fetch(endpoints.series_fee_changes(series_ticker=series_ticker, show_historical=show_historical))

    # --- events and markets ------------------------------------------------------------------

    def iter_events(
        self,
        *,
        status: EventStatusFilter | None = None,
        series_ticker: str | None = None,
        min_close: datetime | None = None,
        with_nested_markets: bool = False,
        page_size: int | None = None,
    ) -> Iterator[Event]:
        paged = endpoints.events(
            status=status, series_ticker=series_ticker, min_close=min_close, with_nested_markets=with_nested_markets
        )
        return self.iterate(paged, page_size=page_size)

    def get_event(self, event_ticker: str, *, with_nested_markets: bool = False) -> Event:
        return self.fetch(endpoints.event(event_ticker, with_nested_markets=with_nested_markets))

    def iter_markets(
        self,
        *,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        tickers: Sequence[str] | None = None,
        status: MarketStatusFilter | None = None,
        min_close: datetime | None = None,
        max_close: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Market]:
        paged = endpoints.markets(
            event_ticker=event_ticker,
            series_ticker=series_ticker,
            tickers=tickers,
            status=status,
            min_close=min_close,
            max_close=max_close,
        )
        return self.iterate(paged, page_size=page_size)

    def get_market(self, ticker: str) -> Market:
        return self.fetch(endpoints.market(ticker))

    def get_orderbook(self, ticker: str, *, depth: int | None = None) -> Orderbook:
        return self.fetch(endpoints.orderbook(ticker, depth=depth))

    def get_orderbooks(self, tickers: Sequence[str]) -> dict[str, Orderbook]:
        """Books by ticker, 100 tickers per request."""
        return {book.ticker: book for query in endpoints.orderbooks(tickers) for book in self.fetch(query)}

    def iter_trades(
        self,
        *,
        ticker: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Trade]:
        return self.iterate(endpoints.trades(ticker=ticker, min_ts=min_ts, max_ts=max_ts), page_size=page_size)

    def get_market_candlesticks(
        self, series_ticker: str, ticker: str, *, start: datetime, end: datetime, period_interval: CandlestickInterval
    ) -> tuple[Candlestick, ...]:
        query = endpoints.market_candlesticks(
            series_ticker, ticker, start=start, end=end, period_interval=period_interval
        )
        return self.fetch(query)

    def get_batch_candlesticks(
        self, tickers: Sequence[str], *, start: datetime, end: datetime, period_interval: CandlestickInterval
    ) -> dict[str, tuple[Candlestick, ...]]:
        """Candlesticks by ticker, 100 tickers per request."""
        result: dict[str, tuple[Candlestick, ...]] = {}
        for query in endpoints.batch_candlesticks(tickers, start=start, end=end, period_interval=period_interval):
            candles: dict[str, tuple[Candlestick, ...]] = self.fetch(query)
            result.update(candles)
        return result

    # --- history -------------------------------------------------------------------------------

    def get_historical_cutoff(self) -> HistoricalCutoff:
        return self.fetch(endpoints.historical_cutoff())

    def iter_historical_markets(
        self,
        *,
        tickers: Sequence[str] | None = None,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Market]:
        paged = endpoints.historical_markets(tickers=tickers, event_ticker=event_ticker, series_ticker=series_ticker)
        return self.iterate(paged, page_size=page_size)

    def get_historical_market(self, ticker: str) -> Market:
        return self.fetch(endpoints.historical_market(ticker))

    def iter_historical_trades(
        self,
        *,
        ticker: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Trade]:
        paged = endpoints.historical_trades(ticker=ticker, min_ts=min_ts, max_ts=max_ts)
        return self.iterate(paged, page_size=page_size)

    def get_historical_candlesticks(
        self, ticker: str, *, start: datetime, end: datetime, period_interval: CandlestickInterval
    ) -> tuple[Candlestick, ...]:
        return self.fetch(
            endpoints.historical_candlesticks(ticker, start=start, end=end, period_interval=period_interval)
        )

    # --- account and portfolio -------------------------------------------------------------------

    def get_account_limits(self) -> AccountLimits:
        return self.fetch(endpoints.account_limits())

    def get_balance(self) -> Balance:
        return self.fetch(endpoints.balance())

    def get_positions(
        self, *, ticker: str | None = None, event_ticker: str | None = None, count_filter: Sequence[str] | None = None
    ) -> Positions:
        """All positions (every page), e.g. ``count_filter=["position"]`` for open ones only."""
        paged = endpoints.positions(ticker=ticker, event_ticker=event_ticker, count_filter=count_filter)
        return Positions.combine(list(self.iterate(paged)))

    def get_order(self, order_id: str) -> Order:
        return self.fetch(endpoints.order(order_id))

    def iter_orders(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: OrderStatus | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Order]:
        paged = endpoints.orders(ticker=ticker, event_ticker=event_ticker, status=status, min_ts=min_ts, max_ts=max_ts)
        return self.iterate(paged, page_size=page_size)

    def iter_fills(
        self,
        *,
        ticker: str | None = None,
        order_id: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Fill]:
        paged = endpoints.fills(ticker=ticker, order_id=order_id, min_ts=min_ts, max_ts=max_ts)
        return self.iterate(paged, page_size=page_size)

    def iter_historical_fills(
        self,
        *,
        ticker: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Fill]:
        """Fills older than the historical cutoff (see :meth:`get_historical_cutoff`)."""
        return self.iterate(
            endpoints.historical_fills(ticker=ticker, min_ts=min_ts, max_ts=max_ts), page_size=page_size
        )

    def iter_historical_orders(
        self,
        *,
        ticker: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Order]:
        """Orders older than the historical cutoff."""
        paged = endpoints.historical_orders(ticker=ticker, min_ts=min_ts, max_ts=max_ts)
        return self.iterate(paged, page_size=page_size)

    def get_queue_positions(
        self, *, market_tickers: Sequence[str] | None = None, event_ticker: str | None = None
    ) -> tuple[QueuePosition, ...]:
        return self.fetch(endpoints.queue_positions(market_tickers=market_tickers, event_ticker=event_ticker))

    def get_queue_position(self, order_id: str) -> Decimal:
        """Contracts ahead of this resting order at its price."""
        return self.fetch(endpoints.queue_position(order_id))

    def iter_settlements(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[Settlement]:
        paged = endpoints.settlements(ticker=ticker, event_ticker=event_ticker, min_ts=min_ts, max_ts=max_ts)
        return self.iterate(paged, page_size=page_size)

    def list_order_groups(self) -> tuple[OrderGroup, ...]:
        return self.fetch(endpoints.order_groups())

    def get_order_group(self, order_group_id: str) -> OrderGroup:
        return self.fetch(endpoints.order_group(order_group_id))

    # --- mutations: never retried, never sent in DRY mode ------------------------------------------

    @mutating
    def create_order(self, request: CreateOrderRequest) -> OrderAnswer | DryRunResult:
        """Place a V2 limit order. 409 (Conflict) means this client_order_id exists: reconcile, don't resend.

        A 2xx answer is never a failure: at worst :class:`AcceptedDetailsUnknown`, to reconcile.
        """
        return self.submit(endpoints.create_order(request))

    @mutating
    def cancel_order(self, order_id: str) -> OrderAnswer | DryRunResult:
        return self.submit(endpoints.cancel_order(order_id))

    @mutating
    def amend_order(self, order_id: str, request: AmendOrderRequest) -> OrderAnswer | DryRunResult:
        """New price and/or total size (filled plus resting) for a resting order."""
        return self.submit(endpoints.amend_order(order_id, request))

    @mutating
    def decrease_order(self, order_id: str, reduce_by: Decimal) -> OrderAnswer | DryRunResult:
        return self.submit(endpoints.decrease_order(order_id, reduce_by))

    @mutating
    def decrease_order_to(self, order_id: str, remaining: Decimal) -> OrderAnswer | DryRunResult:
        return self.submit(endpoints.decrease_order_to(order_id, remaining))

    @mutating
    def batch_create_orders(self, requests: Sequence[CreateOrderRequest]) -> tuple[BatchItem, ...] | DryRunResult:
        """Place up to 20 orders in one request; each item is an ack, a rejection, or accepted-details-unknown."""
        return self.submit(endpoints.batch_create_orders(requests))

    @mutating
    def batch_cancel_orders(self, order_ids: Sequence[str]) -> tuple[BatchItem, ...] | DryRunResult:
        """Cancel up to 20 orders in one request; each item reports its own success or error."""
        return self.submit(endpoints.batch_cancel_orders(order_ids))

    @mutating
    def cancel_all_orders(self) -> DryRunResult | None:
        """Cancel every resting order of the account (the kill switch's exchange side)."""
        return self.submit(endpoints.cancel_all_orders())

    @mutating
    def create_order_group(self, contracts_limit: Decimal) -> str | DryRunResult:
        """Create an order group and return its id."""
        return self.submit(endpoints.create_order_group(contracts_limit))

    @mutating
    def reset_order_group(self, order_group_id: str) -> DryRunResult | None:
        return self.submit(endpoints.reset_order_group(order_group_id))

    @mutating
    def trigger_order_group(self, order_group_id: str) -> DryRunResult | None:
        """Trip the group now: all its orders are cancelled and it takes none until reset."""
        return self.submit(endpoints.trigger_order_group(order_group_id))

    @mutating
    def set_order_group_limit(self, order_group_id: str, contracts_limit: Decimal) -> DryRunResult | None:
        return self.submit(endpoints.set_order_group_limit(order_group_id, contracts_limit))

    @mutating
    def delete_order_group(self, order_group_id: str) -> DryRunResult | None:
        """Delete the group, cancelling all its orders."""
        return self.submit(endpoints.delete_order_group(order_group_id))
