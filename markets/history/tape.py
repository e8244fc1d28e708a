"""Bulk, idempotent import of Kalshi's public trade tape: reading and validating its lines.

A tape is hundreds of thousands of prints, so rows skip the ORM: each line is
validated into a tuple of exact text values and handed to a
:class:`~markets.history.tape_store.TapeWriter`, which writes them in batches
(see there). Batches are committed as they go, so a bad line stops the import
with everything before it stored; re-importing a tape inserts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path
from typing import Any

from markets.history.readers import MalformedLine, json_object, raw_lines
from markets.history.tape_store import BATCH_SIZE, TapeWriter, TradeRow
from markets.schemas.market_data import Trade as TradeData
from markets.units import CENTS_TEXT, UnitError, count_of, price_of, utc_text

# Also guarantees the id is safe to write into COPY's tab-separated text unescaped.
_TRADE_ID = re.compile(r"^[0-9A-Za-z._:-]{1,64}$")
_SIDES = frozenset({"yes", "no"})


class RowError(ValueError):
    """A print that does not validate; the caller adds file and line."""


@dataclass
class TapeResult:
    read: int = 0
    inserted: int = 0
    unknown_market: int = 0
    unknown_examples: list[str] = field(default_factory=list)


# The tapes' own serialization, one print per line with the keys in Kalshi's order: read
# with one regular expression instead of a JSON parser and a dozen checks, it is twice as
# fast. It accepts only text that the general path reads the same way (identifiers with no
# escapes, no leading zeros, a real clock time); everything else, and every error, goes
# the general way. A test holds both paths to the same rows.
_TAPE_LINE = re.compile(
    r'\{"trade_id":"([0-9A-Za-z._:-]{1,64})","ticker":"([0-9A-Za-z._-]{1,64})","count":([1-9][0-9]{0,8}),'
    r'"created_time":"([0-9]{4}-[0-9]{2}-[0-9]{2})T((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?:\.([0-9]{1,6}))?Z",'
    r'"yes_price":([1-9][0-9]?),"no_price":([1-9][0-9]?),"taker_side":"(yes|no)"\}\s*'
).fullmatch
_DAYS: dict[str, bool] = {}  # 'YYYY-MM-DD' → whether it is a real date; a tape holds a few hundred


def tape_line_row(raw: bytes, market_ids: dict[str, int]) -> tuple[str, TradeRow | None] | None:
    """(ticker, row or None if its market is not imported) for a line in the tapes' own form, else None."""
    match = _TAPE_LINE(raw.decode("ascii", "replace"))
    if match is None:
        return None
    trade_id, ticker, count, day, clock, fraction, yes, no, side = match.groups()
    yes_cents, no_cents = int(yes), int(no)
    valid_day = _DAYS.get(day)
    if valid_day is None:
        valid_day = _DAYS[day] = _is_date(day)
    if yes_cents + no_cents != 100 or not valid_day:
        return None
    market_id = market_ids.get(ticker)
    if market_id is None:
        return ticker, None
    created = f"{day} {clock}.{fraction:0<6}" if fraction and fraction.strip("0") else f"{day} {clock}"
    return ticker, (trade_id, market_id, count, CENTS_TEXT[yes_cents], CENTS_TEXT[no_cents], side, created)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def trade_row(data: dict[str, Any], market_ids: dict[str, int]) -> TradeRow | None:
    """Validate one print into text columns; None when its market is not imported."""
    return _general_trade_row(data, market_ids)


def _general_trade_row(data: dict[str, Any], market_ids: dict[str, int]) -> TradeRow | None:
    trade_id = data.get("trade_id")
    if type(trade_id) is not str or not _TRADE_ID.match(trade_id):
        raise RowError(f"trade_id {trade_id!r} is missing or malformed")
    ticker, side = data.get("ticker"), data.get("taker_side")
    if type(ticker) is not str or not ticker:
        raise RowError(f"trade {trade_id}: ticker is missing")
    if side not in _SIDES:
        raise RowError(f"trade {trade_id}: taker_side {side!r} is not 'yes' or 'no'")
    try:
        count, yes, no = _legacy_numbers(data) or _numbers(data, trade_id)
        created = utc_text(data.get("created_time"), field="created_time")
    except UnitError as exc:
        raise RowError(f"trade {trade_id}: {exc}") from None
    market_id = market_ids.get(ticker)
    if market_id is None:
        return None
    return (trade_id, market_id, count, yes, no, side, created)


def _legacy_numbers(data: dict[str, Any]) -> tuple[str, str, str] | None:
    """The integer count and cents of older tapes, or None for any other shape.

    A fast path for millions of lines; anything unusual goes through markets.units.
    """
    count, yes, no = data.get("count"), data.get("yes_price"), data.get("no_price")
    if (
        type(count) is int
        and type(yes) is int
        and type(no) is int
        and count > 0
        and 0 < yes < 100
        and yes + no == 100
        and "count_fp" not in data
        and "yes_price_dollars" not in data
        and "no_price_dollars" not in data
    ):
        return str(count), CENTS_TEXT[yes], CENTS_TEXT[no]
    return None


def api_trade_row(trade: TradeData, market_id: int) -> TradeRow:
    """A print parsed from the REST API (GET /markets/trades, /historical/trades) as a row for write_batch."""
    if not _TRADE_ID.match(trade.trade_id):
        raise RowError(f"trade_id {trade.trade_id!r} is malformed")
    count, yes, no = _checked(trade.count, trade.yes_price, trade.no_price, trade.trade_id)
    created = trade.created_time.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return (trade.trade_id, market_id, count, yes, no, str(trade.taker_side), created)


def _numbers(data: dict[str, Any], trade_id: str) -> tuple[str, str, str]:
    return _checked(count_of(data, "count"), price_of(data, "yes_price"), price_of(data, "no_price"), trade_id)


def _checked(count: Decimal | None, yes: Decimal | None, no: Decimal | None, trade_id: str) -> tuple[str, str, str]:
    if count is None or count <= 0:
        raise RowError(f"trade {trade_id}: count {count} is missing or not positive")
    if yes is None or no is None or yes + no != 1 or not 0 < yes < 1:
        raise RowError(f"trade {trade_id}: prices yes={yes} no={no} must lie inside (0, 1) and sum to 1")
    return str(count), str(yes), str(no)


def tape_rows(path: Path, market_ids: dict[str, int]) -> Iterator[tuple[int, str, TradeRow | None]]:
    """(line number, ticker, row or None if its market is not imported) for each print of a tape.

    MalformedLine names the file and line of the first print that does not validate.
    """
    for number, raw in raw_lines(path):
        fast = tape_line_row(raw, market_ids)
        if fast is not None:
            yield number, fast[0], fast[1]
            continue
        data = json_object(path, number, raw)
        if data is None:
            continue
        try:
            row = trade_row(data, market_ids)
        except RowError as exc:
            raise MalformedLine(path, number, str(exc)) from None
        yield number, str(data.get("ticker")), row


def import_tape(path: Path, market_ids: dict[str, int], *, batch_size: int = BATCH_SIZE) -> TapeResult:
    """Import one tape file. On a malformed line, the valid lines before it are stored first.

    Parsing and writing take turns in this thread: a writer thread was measured
    slower on both databases on a two-core machine, where the database server
    and Python already use both cores (on PostgreSQL, COPY streams each batch
    to the server as it is formatted, so the two overlap anyway).
    """
    result = TapeResult()
    with TapeWriter(batch_size=batch_size) as writer:
        for _, ticker, row in tape_rows(path, market_ids):
            result.read += 1
            if row is None:
                result.unknown_market += 1
                if len(result.unknown_examples) < 3:
                    result.unknown_examples.append(ticker)
                continue
            writer.add(row)
    result.inserted = writer.inserted
    return result
