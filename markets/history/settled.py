"""Settled-market tables: outcomes and settlement values back to 2021.

Two CSV shapes are known (see the shared data README):

* ``kalshi/settled/<SERIES>.csv``: one row per settled market, with the
  observed high Kalshi settled on and the outcome;
* ``kalshi/settled/lcswnn-markets/<SERIES>.csv``: markets with their subtitle,
  result and final prices.

These tables are derived by third parties and sparser than Kalshi's own market
objects, so they only fill blanks: a market imported from a markets file keeps
its own values, and a disagreement is reported, never written over. A third
shape, ``lcswnn-backtest``, has no market tickers and cannot be tied to a market.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from markets.brackets import BracketError, from_subtitle
from markets.history.catalog import RowProblem, check_lengths
from markets.models import Market
from markets.tickers import TickerError, event_date, event_ticker_of
from markets.units import UnitError, cents, optional_timestamp

SETTLED_COLUMNS = (
    "ticker",
    "series_ticker",
    "occurrence_date",
    "market_open_time",
    "market_close_time",
    "strike_F",
    "observed_high_F",
    "outcome",
)
LCSWNN_MARKET_COLUMNS = ("ticker", "title", "subtitle", "event_ticker", "close_time", "expiration_time", "result")
_OUTCOMES = {"1": Market.Result.YES, "0": Market.Result.NO}


def settled_row(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """(series ticker, market fields) of one settled-table row."""
    ticker = row["ticker"]
    try:
        event = event_ticker_of(ticker)
        target = event_date(event)
    except TickerError as exc:
        raise RowProblem(str(exc)) from None
    if target != _date(row["occurrence_date"], "occurrence_date"):
        raise RowProblem(f"{ticker}: occurrence_date {row['occurrence_date']} disagrees with the ticker's {target}")
    if row["outcome"] not in _OUTCOMES:
        raise RowProblem(f"{ticker}: outcome {row['outcome']!r} is not 1 or 0")
    fields: dict[str, Any] = {
        "ticker": ticker,
        "event_ticker": event,
        "status": Market.Status.SETTLED,
        "result": _OUTCOMES[row["outcome"]],
        "open_time": _time(row["market_open_time"], "market_open_time"),
        "close_time": _time(row["market_close_time"], "market_close_time"),
        "floor_strike": _number(row["strike_F"], "strike_F"),
        "expiration_value": _settled_value(row["observed_high_F"]),
    }
    return row["series_ticker"], check_lengths(Market, fields, key=ticker)


def lcswnn_market_row(row: dict[str, str]) -> dict[str, Any]:
    """Market fields of one lcswnn-markets row; its subtitle must name a bracket."""
    ticker = row["ticker"]
    try:
        from_subtitle(row["subtitle"])
    except BracketError as exc:
        raise RowProblem(f"{ticker}: {exc}") from None
    if row["result"] not in {"yes", "no", ""}:
        raise RowProblem(f"{ticker}: result {row['result']!r} is not yes, no or empty")
    fields: dict[str, Any] = {
        "ticker": ticker,
        "event_ticker": row["event_ticker"],
        "title": row["title"],
        "subtitle": row["subtitle"],
        "yes_sub_title": row["subtitle"],
        "status": Market.Status.SETTLED if row["result"] else Market.Status.CLOSED,
        "result": row["result"],
        "close_time": _time(row["close_time"], "close_time"),
        "expiration_time": _time(row["expiration_time"], "expiration_time"),
    }
    for name in ("last_price", "yes_bid", "yes_ask"):
        if row.get(name, "") != "":
            fields[name] = _cents(row[name], f"{ticker}.{name}")
    if row.get("volume", "") != "":
        fields["volume"] = _number(row["volume"], "volume")
    return check_lengths(Market, fields, key=ticker)


@dataclass
class FillBlanks:
    """A merge that only fills empty fields and notes where the sources disagree."""

    disagreements: list[str] = field(default_factory=list)
    compared: tuple[str, ...] = ("result", "expiration_value")

    def __call__(self, current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
        merged = dict(current)
        for name, value in incoming.items():
            if value is None or value == "":
                continue
            if current.get(name) is None or current.get(name) == "":
                merged[name] = value
            elif name in self.compared and not _equal(current[name], value):
                self.disagreements.append(f"{name} {current[name]!r} kept over {value!r}")
        return merged


def _equal(a: object, b: object) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return a == b


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowProblem(f"{name} {value!r} is not a YYYY-MM-DD date") from None


def _time(value: str, name: str) -> Any:
    try:
        return optional_timestamp(value, field=name)
    except UnitError as exc:
        raise RowProblem(str(exc)) from None


def _number(value: str, name: str) -> Decimal | None:
    if value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RowProblem(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise RowProblem(f"{name} {value!r} is not a number")
    return number


def _settled_value(value: str) -> str:
    """The observed high as Kalshi writes expiration values ('88.00'), or '' when absent."""
    number = _number(value, "observed_high_F")
    return "" if number is None else f"{number:.2f}"


def _cents(value: str, name: str) -> Decimal:
    try:
        return cents(int(value), field=name)
    except (ValueError, UnitError):
        raise RowProblem(f"{name} {value!r} is not an integer number of cents") from None
