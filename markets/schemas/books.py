"""Order books, candlesticks and the exchange's own state (status, history cutoff, API limits).

Order books hold bids only: a YES bid at p is a NO ask at 1 - p. Sources
disagree on the order of levels (the docs say ascending, the spec says best
first), so we sort every side ourselves, best (highest) bid first, and never
rely on position in the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from markets import units
from markets.schemas.reader import Reader

ONE = Decimal(1)

# (price in dollars, contracts)
PriceLevel = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Orderbook:
    """Both sides' bids, best first. Asks follow from the other side's bids."""

    ticker: str
    yes_bids: tuple[PriceLevel, ...]
    no_bids: tuple[PriceLevel, ...]

    @property
    def best_yes_bid(self) -> Decimal | None:
        return self.yes_bids[0][0] if self.yes_bids else None

    @property
    def best_no_bid(self) -> Decimal | None:
        return self.no_bids[0][0] if self.no_bids else None

    @property
    def best_yes_ask(self) -> Decimal | None:
        """Buying YES means selling to the best NO bid: 1 - best NO bid."""
        return None if self.best_no_bid is None else ONE - self.best_no_bid

    @property
    def best_no_ask(self) -> Decimal | None:
        return None if self.best_yes_bid is None else ONE - self.best_yes_bid


def parse_orderbook(data: object, *, ticker: str | None = None) -> Orderbook:
    """A book from ``{"orderbook_fp": {yes_dollars, no_dollars}}`` or the legacy ``{"orderbook": {yes, no}}``.

    ``data`` is the response of GET /markets/{ticker}/orderbook (pass the
    ticker) or one entry of GET /markets/orderbooks (which carries its own).
    """
    r = Reader(data, "Orderbook", "ticker", ident=ticker)
    name = ticker if ticker is not None else r.text("ticker")
    if r.has("orderbook_fp"):
        book = Reader(r.mapping("orderbook_fp"), "Orderbook", ident=name)
        return Orderbook(name, _side(book, "yes_dollars"), _side(book, "no_dollars"))
    if r.has("orderbook"):
        book = Reader(r.mapping("orderbook"), "Orderbook", ident=name)
        yes = "yes_dollars" if book.has("yes_dollars") else "yes"
        no = "no_dollars" if book.has("no_dollars") else "no"
        return Orderbook(name, _side(book, yes), _side(book, no))
    raise r.fail("orderbook_fp", "missing")


def _side(book: Reader, name: str) -> tuple[PriceLevel, ...]:
    """One side's levels, sorted best (highest price) first. Null or absent is an empty side."""
    levels = [_level(book, f"{name}[{index}]", item) for index, item in enumerate(book.array(name))]
    return tuple(sorted(levels, key=lambda level: level[0], reverse=True))


def _level(book: Reader, field: str, item: object) -> PriceLevel:
    if not isinstance(item, list) or len(item) != 2:
        raise book.fail(field, f"expected a [price, count] pair, got {item!r}")
    price, size = item
    # Fixed-point books send dollar strings; legacy books send integer cents.
    parse_price = units.dollars if isinstance(price, str) else units.cents
    return book.convert(parse_price, price, field=field), book.convert(units.count, size, field=field)


@dataclass(frozen=True, slots=True)
class OHLC:
    """Open, low, high and close in dollars; None where there was nothing (no trade in the period)."""

    open: Decimal | None
    low: Decimal | None
    high: Decimal | None
    close: Decimal | None


@dataclass(frozen=True, slots=True)
class Candlestick:
    """One period of a market's quotes and trades."""

    end_period_ts: datetime
    yes_bid: OHLC
    yes_ask: OHLC
    price: OHLC
    price_mean: Decimal | None
    price_previous: Decimal | None
    volume: Decimal
    open_interest: Decimal


def parse_candlestick(data: object, *, ticker: str = "") -> Candlestick:
    """Live (``open_dollars``, ``volume_fp``), historical (``open`` as dollars) and legacy (cents) shapes."""
    r = Reader(data, "Candlestick", ident=ticker or None)
    price = _distribution(r, "price")
    return Candlestick(
        end_period_ts=r.epoch("end_period_ts"),
        yes_bid=_ohlc(_distribution(r, "yes_bid")),
        yes_ask=_ohlc(_distribution(r, "yes_ask")),
        price=_ohlc(price),
        price_mean=_amount(price, "mean"),
        price_previous=_amount(price, "previous"),
        volume=r.count("volume"),
        open_interest=r.count("open_interest"),
    )


def _distribution(r: Reader, name: str) -> Reader:
    payload: Mapping[str, Any] = r.mapping(name) if r.has(name) else {}
    return Reader(payload, f"{r.label} {name}")


def _ohlc(r: Reader) -> OHLC:
    return OHLC(_amount(r, "open"), _amount(r, "low"), _amount(r, "high"), _amount(r, "close"))


def _amount(r: Reader, name: str) -> Decimal | None:
    """``<name>_dollars``, else ``<name>``: dollar text (historical) or integer cents (legacy)."""
    if r.has(f"{name}_dollars"):
        return r.dollars(f"{name}_dollars")
    return r.money(name)


def parse_candlesticks(data: object, *, ticker: str = "") -> tuple[Candlestick, ...]:
    r = Reader(data, "Candlesticks response", ident=ticker or None)
    return tuple(parse_candlestick(item, ticker=ticker) for item in r.array("candlesticks"))


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    exchange_active: bool
    trading_active: bool
    estimated_resume_time: datetime | None


def parse_exchange_status(data: object) -> ExchangeStatus:
    r = Reader(data, "ExchangeStatus")
    return ExchangeStatus(
        exchange_active=r.flag("exchange_active"),
        trading_active=r.flag("trading_active"),
        estimated_resume_time=r.opt_time("exchange_estimated_resume_time"),
    )


@dataclass(frozen=True, slots=True)
class TradingHours:
    """One period of the exchange's standard week: per weekday, its (open, close) times as Kalshi writes them."""

    start: datetime
    end: datetime
    sessions: dict[str, tuple[tuple[str, str], ...]]  # "monday" → (("09:30", "16:00"), ...)


@dataclass(frozen=True, slots=True)
class ExchangeSchedule:
    """GET /exchange/schedule: the standard trading hours and the announced maintenance windows."""

    standard_hours: tuple[TradingHours, ...]
    maintenance_windows: tuple[tuple[datetime, datetime], ...]


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_exchange_schedule(data: object) -> ExchangeSchedule:
    r = Reader(Reader(data, "GetExchangeSchedule response").mapping("schedule"), "Schedule")
    return ExchangeSchedule(
        standard_hours=tuple(_trading_hours(item) for item in r.array("standard_hours")),
        maintenance_windows=tuple(_window(item) for item in r.array("maintenance_windows")),
    )


def _trading_hours(data: object) -> TradingHours:
    r = Reader(data, "WeeklySchedule")
    sessions = {day: tuple(_session(item, day) for item in r.array(day)) for day in WEEKDAYS}
    return TradingHours(start=r.time("start_time"), end=r.time("end_time"), sessions=sessions)


def _session(data: object, day: str) -> tuple[str, str]:
    r = Reader(data, f"DailySchedule {day}")
    return r.text("open_time"), r.text("close_time")


def _window(data: object) -> tuple[datetime, datetime]:
    r = Reader(data, "MaintenanceWindow")
    return r.time("start_datetime"), r.time("end_datetime")


def parse_user_data_timestamp(data: object) -> datetime:
    """GET /exchange/user_data_timestamp: how fresh balance, orders, fills and positions are."""
    return Reader(data, "GetUserDataTimestamp response").time("as_of_time")


@dataclass(frozen=True, slots=True)
class HistoricalCutoff:
    """Where live data ends: older settled markets, trades and orders are only under /historical."""

    market_settled_ts: datetime
    trades_created_ts: datetime
    orders_updated_ts: datetime


def parse_historical_cutoff(data: object) -> HistoricalCutoff:
    r = Reader(data, "HistoricalCutoff")
    return HistoricalCutoff(
        market_settled_ts=r.moment("market_settled_ts"),
        trades_created_ts=r.moment("trades_created_ts"),
        orders_updated_ts=r.moment("orders_updated_ts"),
    )


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """The account's API tier and its requests per second."""

    usage_tier: str
    read_limit: int
    write_limit: int


def parse_account_limits(data: object) -> AccountLimits:
    """Either shape: ``read_limit``/``write_limit``, or (3.31.0) ``read``/``write`` buckets with a ``refill_rate``."""
    r = Reader(data, "AccountLimits")
    return AccountLimits(
        usage_tier=r.text("usage_tier"), read_limit=_per_second(r, "read"), write_limit=_per_second(r, "write")
    )


def _per_second(r: Reader, bucket: str) -> int:
    if r.has(f"{bucket}_limit") or not r.has(bucket):
        return r.integer(f"{bucket}_limit")
    return Reader(r.mapping(bucket), f"{r.label} {bucket} bucket").integer("refill_rate")
