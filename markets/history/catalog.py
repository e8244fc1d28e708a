"""Series, events and markets from history files, upserted without losing what is known.

Market files may hold open or unresolved markets: an empty result is not an
error, and a later import that carries the result fills it in. The reverse
never happens: a re-import of older data does not blank a known result or move
a finalized market back to active. Volumes here are thousands of rows, so the
ORM's bulk operations are plenty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction

from markets.brackets import BracketError
from markets.errors import BadResponse
from markets.history.readers import RowProblem
from markets.models import Event, Market, Series
from markets.schemas.market_data import Event as EventData
from markets.schemas.market_data import Market as MarketData
from markets.schemas.market_data import parse_event, parse_market
from markets.tickers import TickerError, event_date
from weather.models import City

BATCH_SIZE = 2_000
_TERMINAL = {Market.Status.FINALIZED, Market.Status.SETTLED, Market.Status.DETERMINED, Market.Status.AMENDED}
# Facts about the outcome: once known, never replaced by an import that lacks them.
_OUTCOME_FIELDS = ("result", "expiration_value", "settlement_value", "settled_at")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.notes.extend(other.notes)


def ensure_series(tickers: Iterable[str]) -> dict[str, Series]:
    """Series rows for these tickers, created on first sight and linked to their city."""
    wanted = set(tickers)
    existing = {s.ticker: s for s in Series.objects.filter(ticker__in=wanted)}
    for ticker in sorted(wanted - existing.keys()):
        city, measure = _city_of(ticker)
        existing[ticker] = Series.objects.create(ticker=ticker, city=city, measure=measure)
    return existing


def _city_of(ticker: str) -> tuple[City | None, str]:
    city = City.objects.filter(high_series_ticker=ticker).first()
    if city is not None:
        return city, Series.Measure.HIGH
    city = City.objects.filter(low_series_ticker=ticker).first()
    if city is not None:
        return city, Series.Measure.LOW
    return None, Series.Measure.OTHER


def event_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Model fields of one Kalshi Event object (raises RowProblem)."""
    try:
        event = parse_event(data)
    except BadResponse as exc:
        raise RowProblem(str(exc)) from None
    return event_model_fields(event)


def event_model_fields(event: EventData) -> dict[str, Any]:
    """Model fields of a parsed Event (its markets aside); its ticker must carry a date (raises RowProblem)."""
    try:
        target = event_date(event.event_ticker)
    except TickerError as exc:
        raise RowProblem(str(exc)) from None
    fields = {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "title": event.title,
        "sub_title": event.sub_title,
        "target_date": target,
        "strike_date": event.strike_date,
        "mutually_exclusive": event.mutually_exclusive,
        "collateral_return_type": event.collateral_return_type,
        "fee_type_override": event.fee_type_override,
        "fee_multiplier_override": event.fee_multiplier_override,
    }
    return check_lengths(Event, fields, key=event.event_ticker)


def market_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Model fields of one Kalshi Market object; its bracket must be readable (raises RowProblem)."""
    try:
        market = parse_market(data)
    except BadResponse as exc:
        raise RowProblem(str(exc)) from None
    return valid_market_fields(market)


def valid_market_fields(market: MarketData) -> dict[str, Any]:
    """Model fields of a parsed Market whose bracket is readable and text fits (raises RowProblem)."""
    try:
        market.bracket()
    except BracketError as exc:
        raise RowProblem(f"{market.ticker}: {exc}") from None
    return check_lengths(Market, market_model_fields(market), key=market.ticker)


def check_lengths(model: type[models.Model], fields: dict[str, Any], *, key: str) -> dict[str, Any]:
    """Refuse text longer than its column, the same way on every database (SQLite would store it)."""
    for name, value in fields.items():
        if not isinstance(value, str):
            continue
        try:
            limit = getattr(model._meta.get_field(name), "max_length", None)
        except FieldDoesNotExist:
            continue
        if limit is not None and len(value) > limit:
            raise RowProblem(f"{key}: {name} is {len(value)} characters, longer than the {limit} allowed")
    return fields


def market_model_fields(market: MarketData) -> dict[str, Any]:
    """The Market columns of a parsed Market, as they map one to one (no checks: see valid_market_fields)."""
    return {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": str(market.market_type),
        "title": market.title,
        "subtitle": market.subtitle,
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title,
        "strike_type": str(market.strike_type or ""),
        "floor_strike": market.floor_strike,
        "cap_strike": market.cap_strike,
        "status": str(market.status),
        "open_time": market.open_time,
        "close_time": market.close_time,
        "expected_expiration_time": market.expected_expiration_time,
        "expiration_time": market.expiration_time,
        "latest_expiration_time": market.latest_expiration_time,
        "settlement_timer_seconds": market.settlement_timer_seconds,
        "can_close_early": market.can_close_early,
        "result": str(market.result),
        "expiration_value": market.expiration_value,
        "settlement_value": market.settlement_value,
        "settled_at": market.settled_at,
        "price_level_structure": market.price_level_structure,
        "fractional_trading_enabled": market.fractional_trading_enabled,
        "yes_bid": market.yes_bid,
        "yes_ask": market.yes_ask,
        "last_price": market.last_price,
        "volume": market.volume,
        "open_interest": market.open_interest,
        "rules_primary": market.rules_primary,
        "fee_waiver_expiration_time": market.fee_waiver_expiration_time,
    }


def upsert_events(rows: list[dict[str, Any]], *, now: datetime) -> UpsertResult:
    """Create or update events (their series are created as needed)."""
    series = ensure_series(row["series_ticker"] for row in rows)
    prepared = [
        {
            **{k: v for k, v in row.items() if k != "series_ticker"},
            "series": series[row["series_ticker"]],
            "synced_at": now,
        }
        for row in rows
    ]
    return _upsert(Event, "event_ticker", prepared, merge=_replace, ignore={"synced_at"})


def upsert_markets(
    rows: list[dict[str, Any]],
    *,
    now: datetime,
    series_ticker: str | None = None,
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> UpsertResult:
    """Create or update markets; their events must exist or be creatable under ``series_ticker``.

    ``merge`` decides the stored values for an existing market (default: incoming
    values win, except that nothing known is forgotten; see merge_market).
    """
    events = ensure_events({row["event_ticker"] for row in rows}, series_ticker=series_ticker)
    prepared = [
        {
            **{k: v for k, v in row.items() if k != "event_ticker"},
            "event": events[row["event_ticker"]],
            "synced_at": now,
        }
        for row in rows
    ]
    return _upsert(Market, "ticker", prepared, merge=merge or merge_market, ignore={"synced_at"})


def ensure_events(tickers: set[str], *, series_ticker: str | None) -> dict[str, Event]:
    """Events for these tickers; missing ones are created under ``series_ticker`` (else an error)."""
    found = {e.event_ticker: e for e in Event.objects.filter(event_ticker__in=tickers)}
    missing = sorted(tickers - found.keys())
    if not missing:
        return found
    if series_ticker is None:
        raise RowProblem(f"event {missing[0]} is not imported (import its events file first)")
    # Every date is checked before anything is written, so a bad ticker leaves no partial batch behind.
    targets = {ticker: _target_date(ticker) for ticker in missing}
    with transaction.atomic():
        series = ensure_series([series_ticker])[series_ticker]
        new = [Event(event_ticker=ticker, series=series, target_date=target) for ticker, target in targets.items()]
        # bulk_create sets the primary keys (SQLite and PostgreSQL), which the markets' foreign keys need.
        found.update((event.event_ticker, event) for event in Event.objects.bulk_create(new, batch_size=BATCH_SIZE))
    return found


def _target_date(event_ticker: str) -> date:
    try:
        return event_date(event_ticker)
    except TickerError as exc:
        raise RowProblem(str(exc)) from None


def merge_market(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The fields to store: the incoming ones, except that nothing known is forgotten."""
    merged = dict(incoming)
    for name in _OUTCOME_FIELDS:
        if _blank(incoming.get(name)) and not _blank(current.get(name)):
            merged[name] = current[name]
    if current.get("status") in _TERMINAL and incoming.get("status") not in _TERMINAL:
        merged["status"] = current["status"]
    for name, value in incoming.items():
        if _blank(value) and name not in _OUTCOME_FIELDS and not _blank(current.get(name)):
            merged[name] = current[name]  # a sparser source (a settled table) must not erase detail
    return merged


def _replace(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    return incoming


def _blank(value: object) -> bool:
    return value is None or value == ""


def _upsert(
    model: type[models.Model],
    key: str,
    rows: list[dict[str, Any]],
    *,
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    ignore: set[str],
) -> UpsertResult:
    """Insert new rows and update changed ones, in one transaction per call."""
    result = UpsertResult()
    if not rows:
        return result
    by_key = {row[key]: row for row in rows}  # a later line for the same key wins
    names = [name for name in next(iter(by_key.values())) if name != key]
    with transaction.atomic():
        existing = model._default_manager.in_bulk(list(by_key), field_name=key)
        to_create, to_update = [], []
        for value, row in by_key.items():
            obj = existing.get(value)
            if obj is None:
                to_create.append(model(**row))
                continue
            current = {name: getattr(obj, _attname(model, name)) for name in names}
            merged = merge(current, row)
            changed = [n for n in names if n not in ignore and not _same(current[n], merged[n])]
            if not changed:
                result.unchanged += 1
                continue
            for name in names:
                value = merged[name]
                # A kept foreign key comes back as its raw id, which only the attname accepts.
                setattr(obj, name if isinstance(value, models.Model) else _attname(model, name), value)
            to_update.append(obj)
        model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            model._default_manager.bulk_update(to_update, names, batch_size=BATCH_SIZE)
    result.created, result.updated = len(to_create), len(to_update)
    return result


def _attname(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field.attname


def _same(current: object, new: object) -> bool:
    if isinstance(new, models.Model):
        return current == new.pk
    if isinstance(current, Decimal) and isinstance(new, Decimal):
        return current.compare(new) == 0  # 0.42 stored as 0.420000 is the same price
    return current == new


def chunked(items: Iterable[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
