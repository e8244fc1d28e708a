"""Public market data endpoints: exchange, series, events, markets, books, trades, candlesticks, history.

Each function returns a description of the request with its parser (see
:mod:`markets.calls`); a client executes it. Paths, parameter names and page
maxima are those of Kalshi's OpenAPI spec (checked by test_contract.py).
Query timestamps are Unix seconds; pass aware datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from markets.calls import Paged, Query, QueryValue, compact, unix_seconds
from markets.endpoints.pages import chunks, items_of, joined, page_of
from markets.schemas import (
    Candlestick,
    CandlestickInterval,
    Event,
    EventStatusFilter,
    ExchangeSchedule,
    ExchangeStatus,
    HistoricalCutoff,
    Market,
    MarketStatusFilter,
    Orderbook,
    Series,
    SeriesFeeChange,
    Trade,
    parse_candlesticks,
    parse_event,
    parse_exchange_schedule,
    parse_exchange_status,
    parse_historical_cutoff,
    parse_market,
    parse_orderbook,
    parse_series,
    parse_series_fee_change,
    parse_trade,
    parse_user_data_timestamp,
)
from markets.schemas.reader import Reader, unwrap

MAX_EVENTS_PAGE = 200
MAX_MARKETS_PAGE = 1000
MAX_TRADES_PAGE = 1000
MAX_TICKERS_PER_CALL = 100  # GET /markets/orderbooks and GET /markets/candlesticks


def exchange_status() -> Query[ExchangeStatus]:
    return Query("/exchange/status", parse_exchange_status)


def exchange_schedule() -> Query[ExchangeSchedule]:
    """The standard trading hours and the announced maintenance windows."""
    return Query("/exchange/schedule", parse_exchange_schedule)


def user_data_timestamp() -> Query[datetime]:
    """When balance, orders, fills and positions were last brought up to date (they lag the matching engine)."""
    return Query("/exchange/user_data_timestamp", parse_user_data_timestamp)


def series_list(*, category: str | None = None, tags: Sequence[str] | None = None) -> Query[tuple[Series, ...]]:
    params = compact({"category": category, "tags": joined(tags)})
    return Query("/series", items_of("series", parse_series, kind="SeriesList response"), params=params)


def series(series_ticker: str) -> Query[Series]:
    return Query(
        "/series/{series_ticker}",
        lambda data: parse_series(unwrap(data, "GetSeries response", "series")),
        path_params={"series_ticker": series_ticker},
    )


def series_fee_changes(
    *, series_ticker: str | None = None, show_historical: bool = False
) -> Query[tuple[SeriesFeeChange, ...]]:
    params = compact({"series_ticker": series_ticker, "show_historical": show_historical or None})
    parse = items_of("series_fee_change_arr", parse_series_fee_change, kind="SeriesFeeChanges response")
    return Query("/series/fee_changes", parse, params=params)


def events(
    *,
    status: EventStatusFilter | None = None,
    series_ticker: str | None = None,
    min_close: datetime | None = None,
    with_nested_markets: bool = False,
) -> Paged[Event]:
    params = compact(
        {
            "status": status.value if status else None,
            "series_ticker": series_ticker,
            "min_close_ts": min_close,
            "with_nested_markets": with_nested_markets or None,
        }
    )
    parse = page_of("events", parse_event, kind="GetEvents response")
    return Paged(Query("/events", parse, params=params), MAX_EVENTS_PAGE)


def event(event_ticker: str, *, with_nested_markets: bool = False) -> Query[Event]:
    def parse(data: Any) -> Event:
        r = Reader(data, "GetEvent response", ident=event_ticker)
        return parse_event(r.mapping("event"), markets=r.array("markets"))

    params = compact({"with_nested_markets": with_nested_markets or None})
    return Query("/events/{event_ticker}", parse, path_params={"event_ticker": event_ticker}, params=params)


def markets(
    *,
    event_ticker: str | None = None,
    series_ticker: str | None = None,
    tickers: Sequence[str] | None = None,
    status: MarketStatusFilter | None = None,
    min_close: datetime | None = None,
    max_close: datetime | None = None,
) -> Paged[Market]:
    params = compact(
        {
            "event_ticker": event_ticker,
            "series_ticker": series_ticker,
            "tickers": joined(tickers),
            "status": status.value if status else None,
            "min_close_ts": min_close,
            "max_close_ts": max_close,
        }
    )
    parse = page_of("markets", parse_market, kind="GetMarkets response")
    return Paged(Query("/markets", parse, params=params), MAX_MARKETS_PAGE)


def market(ticker: str) -> Query[Market]:
    return Query(
        "/markets/{ticker}",
        lambda data: parse_market(unwrap(data, "GetMarket response", "market")),
        path_params={"ticker": ticker},
    )


def orderbook(ticker: str, *, depth: int | None = None) -> Query[Orderbook]:
    """One book; ``depth`` 1-100 levels per side (None: all). The spec lists it as authenticated."""
    if depth is not None and not 0 <= depth <= 100:
        raise ValueError(f"depth must be 0-100 (0: all levels), got {depth}")
    return Query(
        "/markets/{ticker}/orderbook",
        lambda data: parse_orderbook(data, ticker=ticker),
        path_params={"ticker": ticker},
        params=compact({"depth": depth}),
        auth=True,
    )


def orderbooks(tickers: Sequence[str]) -> list[Query[tuple[Orderbook, ...]]]:
    """Books of many markets, one query per 100 tickers (the endpoint's maximum)."""
    parse = items_of("orderbooks", parse_orderbook, kind="GetMarketOrderbooks response")
    return [
        Query("/markets/orderbooks", parse, params={"tickers": list(chunk)}, auth=True)
        for chunk in chunks(tickers, MAX_TICKERS_PER_CALL, what="ticker")
    ]


def trades(
    *, ticker: str | None = None, min_ts: datetime | None = None, max_ts: datetime | None = None
) -> Paged[Trade]:
    params = compact({"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("trades", parse_trade, kind="GetTrades response")
    return Paged(Query("/markets/trades", parse, params=params), MAX_TRADES_PAGE)


def market_candlesticks(
    series_ticker: str, ticker: str, *, start: datetime, end: datetime, period_interval: CandlestickInterval
) -> Query[tuple[Candlestick, ...]]:
    return Query(
        "/series/{series_ticker}/markets/{ticker}/candlesticks",
        lambda data: parse_candlesticks(data, ticker=ticker),
        path_params={"series_ticker": series_ticker, "ticker": ticker},
        params=_window(start, end, period_interval),
    )


def batch_candlesticks(
    tickers: Sequence[str], *, start: datetime, end: datetime, period_interval: CandlestickInterval
) -> list[Query[dict[str, tuple[Candlestick, ...]]]]:
    """Candlesticks of many markets, one query per 100 tickers; each answers ticker → candles."""
    return [
        Query(
            "/markets/candlesticks",
            _parse_batch_candlesticks,
            params={"market_tickers": ",".join(chunk), **_window(start, end, period_interval)},
        )
        for chunk in chunks(tickers, MAX_TICKERS_PER_CALL, what="ticker")
    ]


def _parse_batch_candlesticks(data: Any) -> dict[str, tuple[Candlestick, ...]]:
    result = {}
    for item in Reader(data, "BatchGetMarketCandlesticks response").array("markets"):
        ticker = Reader(item, "MarketCandlesticks", "market_ticker").text("market_ticker")
        result[ticker] = parse_candlesticks(item, ticker=ticker)
    return result


def _window(start: datetime, end: datetime, period_interval: CandlestickInterval) -> dict[str, QueryValue]:
    interval = CandlestickInterval(period_interval)  # rejects minutes Kalshi does not offer
    start_ts, end_ts = unix_seconds(start, name="start"), unix_seconds(end, name="end")
    if start_ts > end_ts:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    return {"start_ts": start_ts, "end_ts": end_ts, "period_interval": int(interval)}


def historical_cutoff() -> Query[HistoricalCutoff]:
    return Query("/historical/cutoff", parse_historical_cutoff)


def historical_markets(
    *, tickers: Sequence[str] | None = None, event_ticker: str | None = None, series_ticker: str | None = None
) -> Paged[Market]:
    params = compact({"tickers": joined(tickers), "event_ticker": event_ticker, "series_ticker": series_ticker})
    parse = page_of("markets", parse_market, kind="GetHistoricalMarkets response")
    return Paged(Query("/historical/markets", parse, params=params), MAX_MARKETS_PAGE)


def historical_market(ticker: str) -> Query[Market]:
    return Query(
        "/historical/markets/{ticker}",
        lambda data: parse_market(unwrap(data, "GetHistoricalMarket response", "market")),
        path_params={"ticker": ticker},
    )


def historical_trades(
    *, ticker: str | None = None, min_ts: datetime | None = None, max_ts: datetime | None = None
) -> Paged[Trade]:
    params = compact({"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("trades", parse_trade, kind="GetTradesHistorical response")
    return Paged(Query("/historical/trades", parse, params=params), MAX_TRADES_PAGE)


def historical_candlesticks(
    ticker: str, *, start: datetime, end: datetime, period_interval: CandlestickInterval
) -> Query[tuple[Candlestick, ...]]:
    return Query(
        "/historical/markets/{ticker}/candlesticks",
        lambda data: parse_candlesticks(data, ticker=ticker),
        path_params={"ticker": ticker},
        params=_window(start, end, period_interval),
    )
