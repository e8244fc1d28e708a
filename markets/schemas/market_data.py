"""Kalshi's public market structure: series, events, markets and the trade tape.

Each ``parse_*`` reads one JSON object, current or legacy shape, into a
frozen dataclass, or raises :class:`~markets.errors.BadResponse` naming the
object and field. "Required" here means what the product cannot do without
(ids, links, the fee schedule, status and times); everything else has a
neutral default, so the 2024-25 history files and today's API both parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from markets.brackets import Bracket, bracket_of
from markets.schemas.enums import BookSide, FeeType, MarketResult, MarketStatus, MarketType, Side, StrikeType
from markets.schemas.orders import price_on_tick
from markets.schemas.reader import Reader


@dataclass(frozen=True, slots=True)
class SettlementSource:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Series:
    """A series (e.g. KXHIGHNY) and the fee schedule its markets trade under."""

    ticker: str
    title: str
    category: str
    frequency: str
    tags: tuple[str, ...]
    settlement_sources: tuple[SettlementSource, ...]
    contract_url: str
    fee_type: FeeType | str  # the raw text of a type newer than this code: trading.fees refuses it
    fee_multiplier: Decimal


def parse_series(data: object) -> Series:
    r = Reader(data, "Series", "ticker")
    return Series(
        ticker=r.text("ticker"),
        title=r.opt_text("title"),
        category=r.opt_text("category"),
        frequency=r.opt_text("frequency"),
        tags=r.texts("tags"),
        settlement_sources=tuple(_settlement_source(item, r.label) for item in r.array("settlement_sources")),
        contract_url=r.opt_text("contract_url"),
        fee_type=r.open_enum("fee_type", FeeType),
        fee_multiplier=r.decimal("fee_multiplier"),
    )


def _settlement_source(data: object, owner: str) -> SettlementSource:
    r = Reader(data, f"{owner} settlement source")
    return SettlementSource(name=r.opt_text("name"), url=r.opt_text("url"))


@dataclass(frozen=True, slots=True)
class SeriesFeeChange:
    """A scheduled change of a series' fee schedule (GET /series/fee_changes)."""

    id: str
    series_ticker: str
    fee_type: FeeType | str
    fee_multiplier: Decimal
    scheduled_at: datetime


def parse_series_fee_change(data: object) -> SeriesFeeChange:
    r = Reader(data, "SeriesFeeChange", "id")
    return SeriesFeeChange(
        id=r.text("id"),
        series_ticker=r.text("series_ticker"),
        fee_type=r.open_enum("fee_type", FeeType),
        fee_multiplier=r.decimal("fee_multiplier"),
        scheduled_at=r.moment("scheduled_ts"),
    )


@dataclass(frozen=True, slots=True)
class Market:
    """One market (for weather: one temperature bracket of one climate day)."""

    ticker: str
    event_ticker: str
    market_type: MarketType
    title: str
    subtitle: str
    yes_sub_title: str
    no_sub_title: str
    status: MarketStatus | str  # the raw text of a status newer than this code: never "active", so never traded
    open_time: datetime
    close_time: datetime
    expected_expiration_time: datetime | None
    expiration_time: datetime | None
    latest_expiration_time: datetime | None
    settlement_timer_seconds: int | None
    can_close_early: bool
    result: MarketResult
    expiration_value: str
    settlement_value: Decimal | None
    settled_at: datetime | None
    strike_type: StrikeType | None
    floor_strike: Decimal | None
    cap_strike: Decimal | None
    rules_primary: str
    price_level_structure: str
    fractional_trading_enabled: bool
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    no_bid: Decimal | None
    no_ask: Decimal | None
    last_price: Decimal | None
    volume: Decimal | None
    volume_24h: Decimal | None
    open_interest: Decimal | None
    fee_waiver_expiration_time: datetime | None = None  # trades are free until then

    def bracket(self) -> Bracket:
        """The settlement values that make this market YES (raises BracketError if it has none)."""
        subtitle = self.subtitle or self.yes_sub_title or None
        return bracket_of(strike_type=self.strike_type, floor=self.floor_strike, cap=self.cap_strike, subtitle=subtitle)

    def accepts_price(self, price: Decimal) -> bool:
        """Whether ``price`` is on this market's tick grid (price_level_structure)."""
        return price_on_tick(price, self.price_level_structure)


def parse_market(data: object) -> Market:
    r = Reader(data, "Market", "ticker")
    return Market(
        ticker=r.text("ticker"),
        event_ticker=r.text("event_ticker"),
        market_type=r.opt_enum("market_type", MarketType) or MarketType.BINARY,
        title=r.opt_text("title"),
        subtitle=r.opt_text("subtitle"),
        yes_sub_title=r.opt_text("yes_sub_title"),
        no_sub_title=r.opt_text("no_sub_title"),
        status=r.open_enum("status", MarketStatus),
        open_time=r.time("open_time"),
        close_time=r.time("close_time"),
        expected_expiration_time=r.opt_time("expected_expiration_time"),
        expiration_time=r.opt_time("expiration_time"),
        latest_expiration_time=r.opt_time("latest_expiration_time"),
        settlement_timer_seconds=r.opt_integer("settlement_timer_seconds"),
        can_close_early=r.opt_flag("can_close_early"),
        result=r.opt_enum("result", MarketResult) or MarketResult.UNDETERMINED,
        expiration_value=r.opt_text("expiration_value"),
        settlement_value=r.opt_price("settlement_value"),
        settled_at=r.opt_time("settlement_ts"),
        strike_type=r.opt_enum("strike_type", StrikeType),
        floor_strike=r.opt_decimal("floor_strike"),
        cap_strike=r.opt_decimal("cap_strike"),
        rules_primary=r.opt_text("rules_primary"),
        price_level_structure=r.opt_text("price_level_structure"),
        fractional_trading_enabled=r.opt_flag("fractional_trading_enabled"),
        yes_bid=r.opt_price("yes_bid"),
        yes_ask=r.opt_price("yes_ask"),
        no_bid=r.opt_price("no_bid"),
        no_ask=r.opt_price("no_ask"),
        last_price=r.opt_price("last_price"),
        volume=r.opt_count("volume"),
        volume_24h=r.opt_count("volume_24h"),
        open_interest=r.opt_count("open_interest"),
        fee_waiver_expiration_time=r.opt_time("fee_waiver_expiration_time"),
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One event (for weather: one climate day of one series) and, when asked for, its markets."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    strike_date: datetime | None
    mutually_exclusive: bool
    collateral_return_type: str
    markets: tuple[Market, ...]
    # Takes precedence over the series' fee schedule for this event's markets; "" and None: no override.
    fee_type_override: str = ""
    fee_multiplier_override: Decimal | None = None


def parse_event(data: object, *, markets: list[Any] | None = None) -> Event:
    """An event; its markets come nested in it, or from ``markets`` (GET /events/{t} sends them beside it)."""
    r = Reader(data, "Event", "event_ticker")
    nested = r.array("markets") or markets or []
    return Event(
        event_ticker=r.text("event_ticker"),
        series_ticker=r.text("series_ticker"),
        title=r.opt_text("title"),
        sub_title=r.opt_text("sub_title"),
        strike_date=r.opt_time("strike_date"),
        mutually_exclusive=r.flag("mutually_exclusive"),
        collateral_return_type=r.opt_text("collateral_return_type"),
        markets=tuple(parse_market(item) for item in nested),
        fee_type_override=r.opt_text("fee_type_override"),
        fee_multiplier_override=r.opt_decimal("fee_multiplier_override"),
    )


@dataclass(frozen=True, slots=True)
class Trade:
    """One print on the public tape."""

    trade_id: str
    ticker: str
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    taker_side: Side
    created_time: datetime


def _taker_side(r: Reader) -> Side:
    """The side the taker bought: legacy ``taker_side``, else from V2's ``taker_book_side`` (a bid buys YES)."""
    if r.has("taker_side") or not (r.has("taker_book_side") or r.has("taker_outcome_side")):
        return r.enum("taker_side", Side)
    if r.has("taker_book_side"):
        return Side.YES if r.enum("taker_book_side", BookSide) is BookSide.BID else Side.NO
    return r.enum("taker_outcome_side", Side)


def parse_trade(data: object) -> Trade:
    r = Reader(data, "Trade", "trade_id")
    return Trade(
        trade_id=r.text("trade_id"),
        ticker=r.text("ticker"),
        count=r.count("count"),
        yes_price=r.price("yes_price"),
        no_price=r.price("no_price"),
        taker_side=_taker_side(r),
        created_time=r.time("created_time"),
    )
