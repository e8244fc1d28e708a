"""Backfill a series' events, markets and trade tape for a range of climate days from Kalshi's REST API.

Kalshi archives old data: markets that settled before ``GET /historical/cutoff``'s
``market_settled_ts`` are served only by ``/historical/markets``, and trades
created before ``trades_created_ts`` only by ``/historical/trades``. So:

* events come from ``GET /events`` (which lists every event, archived or not)
  with their live markets nested;
* when the cutoff falls after the window opens, archived markets come from
  ``GET /historical/markets?series_ticker=…`` (that endpoint has no date
  filter, so the series is streamed and days outside the window are skipped);
* a market's trades come from ``/historical/trades`` if it opened before the
  trade cutoff and from ``/markets/trades`` if it closed after it (both, for a
  market that straddles it).

Everything streams page by page and is written in batches, so memory stays flat
however long the window. Events and markets go through the catalog's upsert
and merge rules, trades through the tape writer: a second backfill adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from markets.client_api import ExchangeApi
from markets.history.catalog import UpsertResult, chunked
from markets.history.tape import RowError, api_trade_row
from markets.history.tape_store import TradeRow, write_batch
from markets.models import Market
from markets.schemas import HistoricalCutoff, Trade
from markets.schemas import Market as MarketData
from markets.services.sync import CatalogCounts, store_events, store_markets
from markets.tickers import TickerError, event_date

logger = logging.getLogger(__name__)

EVENTS_PER_BATCH = 200
MARKETS_PER_BATCH = 1_000
TRADES_PER_BATCH = 5_000
MAX_REPORTED_ERRORS = 50  # a broken feed could produce one per print; the first ones say enough


@dataclass
class BackfillReport:
    series_ticker: str
    start: date
    end: date
    cutoff: HistoricalCutoff | None = None
    catalog: CatalogCounts = field(default_factory=CatalogCounts)
    live_markets: int = 0  # markets read nested in GET /events
    archived_markets: int = 0  # markets read from GET /historical/markets
    trades_read: int = 0
    trades_new: int = 0
    errors_dropped: int = 0

    @property
    def events(self) -> UpsertResult:
        return self.catalog.events

    @property
    def markets(self) -> UpsertResult:
        return self.catalog.markets

    @property
    def errors(self) -> list[str]:
        return self.catalog.errors

    def add_error(self, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)
        else:
            self.errors_dropped += 1


def backfill_history(
    *,
    client: ExchangeApi,
    series_ticker: str,
    start: date,
    end: date,
    now: datetime,
    trades: bool = True,
) -> BackfillReport:
    """Import the events, markets and (unless ``trades`` is False) trades of climate days start..end."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    report = BackfillReport(series_ticker=series_ticker, start=start, end=end)
    report.cutoff = cutoff = client.get_historical_cutoff()
    # Markets of climate day `start` close after midnight UTC of that day, whatever the station's zone.
    window_open = datetime.combine(start, time.min, tzinfo=UTC)
    events = client.iter_events(series_ticker=series_ticker, min_close=window_open, with_nested_markets=True)
    for batch in chunked((e for e in events if _in_window(e.event_ticker, start, end)), EVENTS_PER_BATCH):
        report.live_markets += sum(len(event.markets) for event in batch)
        stored = store_events(batch, series_ticker=series_ticker, now=now, counts=report.catalog)
        if trades:
            _backfill_trades(client, stored, cutoff, report)
    if cutoff.market_settled_ts > window_open:
        archived = client.iter_historical_markets(series_ticker=series_ticker)
        for chunk in chunked((m for m in archived if _in_window(m.event_ticker, start, end)), MARKETS_PER_BATCH):
            report.archived_markets += len(chunk)
            stored = store_markets(chunk, series_ticker=series_ticker, now=now, counts=report.catalog)
            if trades:
                _backfill_trades(client, stored, cutoff, report)
    return report


def _in_window(event_ticker: str, start: date, end: date) -> bool:
    """Whether the event's climate day is in the window; an unreadable ticker is let through to be reported."""
    try:
        return start <= event_date(event_ticker) <= end
    except TickerError:
        return True


def _backfill_trades(
    client: ExchangeApi, markets: list[MarketData], cutoff: HistoricalCutoff, report: BackfillReport
) -> None:
    if not markets:
        return
    market_ids = dict(Market.objects.filter(ticker__in=[m.ticker for m in markets]).values_list("ticker", "id"))
    for market in markets:
        for tape in _tapes(client, market, cutoff.trades_created_ts):
            for batch in chunked(tape, TRADES_PER_BATCH):
                report.trades_read += len(batch)
                report.trades_new += write_batch(_trade_rows(batch, market_ids, report))


def _tapes(client: ExchangeApi, market: MarketData, trade_cutoff: datetime) -> Iterator[Iterator[Trade]]:
    """The trade lists holding this market's prints: archived before the cutoff, live after it."""
    if market.open_time < trade_cutoff:
        yield client.iter_historical_trades(ticker=market.ticker)
    if market.close_time >= trade_cutoff:
        yield client.iter_trades(ticker=market.ticker)


def _trade_rows(trades: list[Trade], market_ids: dict[str, int], report: BackfillReport) -> list[TradeRow]:
    rows = []
    for trade in trades:
        market_id = market_ids.get(trade.ticker)
        if market_id is None:
            report.add_error(f"trade {trade.trade_id}: market {trade.ticker} was not asked for; skipped")
            continue
        try:
            rows.append(api_trade_row(trade, market_id))
        except RowError as exc:
            report.add_error(str(exc))
    return rows
