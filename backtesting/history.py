"""Imported history as the backtest engine reads it: events, their brackets, tapes, fees and payouts.

The tapes are the bulk (a million prints for the shared data), so they are
read with one query per run straight into numpy arrays, in integer units,
without building a Django object or a Decimal per print (see
backtesting.tape). Everything else comes through the ORM.

An event settles when its result was known: Kalshi's expected expiration time,
else 09:00 standard time the next day (prediction.cases.high_known_from).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from django.db import connection
from django.db.models import Prefetch

from backtesting.engine import EventHistory, History, MarketHistory
from backtesting.tape import MICROS, Tape, tapes_from_prints
from markets.brackets import BracketError
from markets.models import Event, Market, Series
from markets.outcomes import market_payout
from prediction.cases import high_known_from
from trading.snapshot import fee_schedule

# What a backtest reads of a market (Django builds every field of every object it loads).
_MARKET_FIELDS = ("event_id", "ticker", "strike_type", "floor_strike", "cap_strike", "subtitle", "yes_sub_title",
                  "open_time", "close_time", "expected_expiration_time", "result", "settlement_value",
                  "fee_waiver_expiration_time")  # fmt: skip
_MARKETS_PER_QUERY = 10_000  # SQLite allows 32,766 parameters a query
PRINT = np.dtype([("market", "i8"), ("time", "i8"), ("price", "i8"), ("count", "i8"), ("taker_yes", "?")])
_POSTGRES_COLUMNS = (
    "market_id, (EXTRACT(EPOCH FROM created_time) * 1000000)::bigint, "
    "(yes_price * 1000000)::bigint, (count * 100)::bigint, taker_side = 'yes'"
)
# SQLite stores times as text, which numpy parses far faster than SQL's date functions
# (concatenating '' keeps sqlite3's datetime converter off the column).
_SQLITE_COLUMNS = "market_id, created_time || '', yes_price, count, taker_side = 'yes'"
_SQLITE_TEXT_PRINT = np.dtype([("market", "i8"), ("time", "U26"), ("price", "f8"), ("count", "f8"), ("taker_yes", "?")])


@dataclass
class LoadedHistory:
    history: History
    notes: list[str] = field(default_factory=list)  # events left out, and why

    @property
    def n_markets(self) -> int:
        return sum(len(e.markets) for e in self.history.events)


def load_history(
    *,
    series: Sequence[Series],
    start: date,
    end: date,
    forecasts: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
) -> LoadedHistory:
    """Every event of ``series`` with a climate day in [start, end] whose brackets and times can be read."""
    events = list(
        Event.objects.filter(series__in=series, target_date__gte=start, target_date__lte=end)
        .select_related("series__city")
        .prefetch_related(Prefetch("markets", queryset=Market.objects.only(*_MARKET_FIELDS)))
        .order_by("target_date", "event_ticker")
    )
    tapes = load_tapes([m.pk for e in events for m in e.markets.all()])
    loaded = LoadedHistory(History(()))
    built = []
    for event in events:
        try:
            built.append(_event(event, tapes))
        except _Unusable as exc:
            loaded.notes.append(f"{event.event_ticker}: {exc}")
    loaded.history = History(tuple(built), aligned(built, forecasts or {}))
    return loaded


def aligned(
    events: Sequence[EventHistory], forecasts: Mapping[tuple[str, str], Mapping[str, float]]
) -> dict[tuple[str, str], tuple[float, ...]]:
    """Forecasts by ticker as tuples in each event's market order (one that misses a market is left out)."""
    orders = {e.event_ticker: [m.ticker for m in e.markets] for e in events}
    found = {}
    for (event_ticker, name), by_ticker in forecasts.items():
        tickers = orders.get(event_ticker)
        if tickers is not None and set(tickers) <= set(by_ticker):
            found[(event_ticker, name)] = tuple(by_ticker[t] for t in tickers)
    return found


class _Unusable(ValueError):
    pass


def _event(event: Event, tapes: Mapping[int, Tape]) -> EventHistory:
    city = event.series.city
    if city is None or event.target_date is None:
        raise _Unusable("no city or no climate day")
    try:
        brackets = event.brackets()
    except BracketError as exc:
        raise _Unusable(f"brackets unreadable ({exc})") from None
    markets = sorted(event.markets.all(), key=lambda m: brackets[m.ticker].continuous_edges())
    closes = {m.close_time for m in markets if m.close_time is not None}
    if not markets or not closes:
        raise _Unusable("no markets with a close time")
    expected = [m.expected_expiration_time for m in markets if m.expected_expiration_time is not None]
    opens = [m.open_time for m in markets if m.open_time is not None]
    return EventHistory(
        event_ticker=event.event_ticker,
        series_ticker=event.series.ticker,
        city=city.name,
        zone=city.timezone,
        target_date=event.target_date,
        close_time=max(closes),
        settles_at=max(expected) if expected else high_known_from(event.target_date, city.standard_utc_offset_minutes),
        fees=fee_schedule(event, markets),
        markets=tuple(
            MarketHistory(
                ticker=m.ticker,
                bracket=brackets[m.ticker],
                tape=tapes.get(m.pk) or Tape.empty(),
                payout=market_payout(m.result, m.settlement_value),
            )
            for m in markets
        ),
        listed_at=min(opens) if opens else None,
    )


def load_tapes(market_ids: Sequence[int]) -> dict[int, Tape]:
    """Every print of these markets as tapes by market id (nothing is done per print in Python)."""
    if not market_ids:
        return {}
    chunks = [_prints(market_ids[i : i + _MARKETS_PER_QUERY]) for i in range(0, len(market_ids), _MARKETS_PER_QUERY)]
    prints = np.concatenate(chunks)
    return tapes_from_prints(prints["market"], prints["time"], prints["price"], prints["count"], prints["taker_yes"])


def _prints(market_ids: Sequence[int]) -> np.ndarray:
    """(market, µs, YES micro-dollars, hundredths, taker bought YES) of every print, in database order.

    Read through the database driver's own cursor: Django's wrapper costs a
    Python call per row, which for a million rows is most of the time.
    """
    postgres = connection.vendor == "postgresql"
    placeholders = ", ".join(["%s" if postgres else "?"] * len(market_ids))
    columns = _POSTGRES_COLUMNS if postgres else _SQLITE_COLUMNS
    query = f"SELECT {columns} FROM markets_trade WHERE market_id IN ({placeholders})"  # noqa: S608 - constants only
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(query, list(market_ids))
        if postgres:
            return np.fromiter(cursor, dtype=PRINT)
        raw = np.fromiter(cursor, dtype=_SQLITE_TEXT_PRINT)
    finally:
        cursor.close()
    prints = np.empty(len(raw), dtype=PRINT)
    prints["market"] = raw["market"]
    prints["time"] = raw["time"].astype("datetime64[us]").astype(np.int64)
    prints["price"] = np.rint(raw["price"] * MICROS).astype(np.int64)
    prints["count"] = np.rint(raw["count"] * 100).astype(np.int64)
    prints["taker_yes"] = raw["taker_yes"]
    return prints
