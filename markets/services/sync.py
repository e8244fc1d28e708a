"""Keep the events and markets of the series we trade current, from Kalshi's public REST API.

One ``GET /events?series_ticker=…&min_close_ts=now-lookback&with_nested_markets=true``
per series covers every event the bot cares about: the unopened and open ones
(their markets close in the future) and those that closed within the lookback,
so results and settlement values arrive on the next syncs after settlement.
Rows go through :mod:`markets.history.catalog`, with its merge rules: a known
result is never blanked and a finalized market never returns to active.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markets.client_api import ExchangeApi
from markets.errors import BadRequest, BadResponse, NotFound
from markets.history.catalog import (
    RowProblem,
    UpsertResult,
    chunked,
    event_model_fields,
    upsert_events,
    upsert_markets,
    valid_market_fields,
)
from markets.models import Event, Market
from markets.schemas import Event as EventData
from markets.schemas import Market as MarketData
from markets.tickers import TickerError, event_date
from weather.models import City

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(days=3)
EVENTS_PER_BATCH = 200  # GET /events' largest page
# Answers about one series that say nothing about the others: report them and go on.
# Outages, rate limits and key problems propagate, so a task retries or an operator sees them.
SERIES_ERRORS = (BadResponse, BadRequest, NotFound)


@dataclass
class CatalogCounts:
    """What one series' sync (or backfill) did to Event and Market rows."""

    events: UpsertResult = field(default_factory=UpsertResult)
    markets: UpsertResult = field(default_factory=UpsertResult)
    errors: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    series: dict[str, CatalogCounts] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return [f"{ticker}: {error}" for ticker, counts in self.series.items() for error in counts.errors]


def sync_markets(
    *,
    client: ExchangeApi,
    now: datetime,
    series_tickers: Sequence[str] | None = None,
    lookback: timedelta = LOOKBACK,
) -> SyncReport:
    """Refresh the events and markets of ``series_tickers`` (default: the active cities' series)."""
    tickers = list(series_tickers) if series_tickers is not None else active_series_tickers()
    report = SyncReport()
    for ticker in tickers:
        report.series[ticker] = sync_series(client=client, series_ticker=ticker, since=now - lookback, now=now)
    return report


def active_series_tickers() -> list[str]:
    """The high and low series of every active city, sorted."""
    pairs = City.objects.active().values_list("high_series_ticker", "low_series_ticker")
    return sorted({ticker for pair in pairs for ticker in pair if ticker})


def sync_series(*, client: ExchangeApi, series_ticker: str, since: datetime, now: datetime) -> CatalogCounts:
    """Upsert the series' events with a market closing after ``since``, and their markets."""
    counts = CatalogCounts()
    events = client.iter_events(series_ticker=series_ticker, min_close=since, with_nested_markets=True)
    try:
        for batch in chunked(events, EVENTS_PER_BATCH):
            store_events(batch, series_ticker=series_ticker, now=now, counts=counts)
    except SERIES_ERRORS as exc:
        counts.errors.append(str(exc))
        logger.warning("Sync of %s stopped: %s", series_ticker, exc)
    return counts


def store_events(
    events: Iterable[EventData], *, series_ticker: str, now: datetime, counts: CatalogCounts
) -> list[MarketData]:
    """Upsert events and their nested markets; returns the markets stored (bad ones are in counts.errors)."""
    rows: list[dict[str, Any]] = []
    markets: list[MarketData] = []
    for event in events:
        try:
            rows.append(event_model_fields(event))
        except RowProblem as exc:
            counts.errors.append(str(exc))
            continue
        markets.extend(event.markets)
    counts.events.add(upsert_events(rows, now=now))
    Event.objects.filter(event_ticker__in=[row["event_ticker"] for row in rows]).update(synced_at=now)
    return store_markets(markets, series_ticker=series_ticker, now=now, counts=counts)


def store_markets(
    markets: Iterable[MarketData], *, series_ticker: str, now: datetime, counts: CatalogCounts
) -> list[MarketData]:
    """Upsert markets (creating missing events under ``series_ticker``); returns those stored.

    A market whose bracket cannot be determined is reported, not stored: a
    wrong bracket would be priced and traded as if it were right.
    """
    rows: list[dict[str, Any]] = []
    stored: list[MarketData] = []
    for market in markets:
        try:
            rows.append(_market_row(market))
        except RowProblem as exc:
            counts.errors.append(str(exc))
            logger.warning("Market not stored: %s", exc)
            continue
        stored.append(market)
    counts.markets.add(upsert_markets(rows, now=now, series_ticker=series_ticker))
    # Unchanged rows are not rewritten by the upsert, but they were confirmed just now:
    # synced_at is what the health check reads as the freshness of market data.
    Market.objects.filter(ticker__in=[row["ticker"] for row in rows]).update(synced_at=now)
    return stored


def _market_row(market: MarketData) -> dict[str, Any]:
    try:
        event_date(market.event_ticker)  # checked here, so one odd ticker cannot sink the whole batch
    except TickerError as exc:
        raise RowProblem(f"{market.ticker}: {exc}") from None
    return valid_market_fields(market)
