"""Bulk, idempotent import of Kalshi's public trade tape: reading and validating its lines.

A tape is hundreds of thousands of prints, so rows skip the ORM: each line is
validated into exact text values, a line of COPY text for PostgreSQL or a
tuple for SQLite, and handed a block at a time to a
:class:`~markets.history.tape_store.TapeWriter` (see there for how each
database writes them). What was read is committed before an error is raised,
so a bad line stops the import with everything before it stored;
re-importing a tape inserts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from kalshiweb.progress import SILENT, Progress
from markets.history.readers import MalformedLine, json_object, line_chunks
from markets.history.tape_store import BATCH_SIZE, StoredPrintMet, TapeWriter, TradeRow, copy_line
from markets.schemas.market_data import Trade as TradeData
from markets.units import CENTS_TEXT, UnitError, count_of, price_of, stored_utc, stored_utc_text, utc_text

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


# The tapes' own serialization, one print per line with the keys in Kalshi's order: read a
# block at a time with one regular expression instead of line by line with a JSON parser and
# a dozen checks, it is three times as fast. It accepts only text that the general path reads
# the same way (identifiers with no escapes, no leading zeros, a real clock time, prices that
# sum to a dollar); every other line, and every error, goes the general way. A test holds
# both paths to the same rows.
_TAPE_LINE = re.compile(
    rb'^\{"trade_id":"([0-9A-Za-z._:-]{1,64})","ticker":"([0-9A-Za-z._-]{1,64})","count":([1-9][0-9]{0,8}),'
    rb'"created_time":"([0-9]{4}-[0-9]{2}-[0-9]{2})T((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?)Z",'
    rb'"yes_price":([1-9][0-9]?,"no_price":[1-9][0-9]?),"taker_side":"(yes|no)"\}[ \t\r]*\n',
    re.MULTILINE,
)
# '32,"no_price":68' → the two prices as text, and as COPY columns; only pairs summing to 100 cents.
_PRICE_PAIRS: dict[bytes, tuple[str, str, bytes]] = {
    f'{yes},"no_price":{100 - yes}'.encode(): (
        CENTS_TEXT[yes],
        CENTS_TEXT[100 - yes],
        f"{CENTS_TEXT[yes]}\t{CENTS_TEXT[100 - yes]}".encode(),
    )
    for yes in range(1, 100)
}
_DAYS: dict[bytes, bool] = {}  # b'YYYY-MM-DD' → whether it is a real date; a tape holds a few hundred
MarketKeys = dict[bytes, tuple[int, bytes]]  # ticker → (market id, the id as COPY text)
Prints = list[bytes] | list[TradeRow]


def read_tape(
    path: Path, market_ids: dict[str, int], result: TapeResult, *, copy_text: bool, progress: Progress = SILENT
) -> Iterator[Prints]:
    """The tape's prints of imported markets, a block at a time, counted into ``result``.

    Each print is a line of COPY text (``copy_text``, for PostgreSQL) or a
    TradeRow. On a line that does not validate, the prints before it are
    yielded first, then MalformedLine names the file and line. ``progress``
    advances as the file is read (see markets.history.readers).
    """
    keys = market_keys(market_ids)
    for first, text in line_chunks(path, progress):
        prints: Prints = []
        try:
            _read_chunk(_Chunk(path, first, text, market_ids, keys, result, copy_text), prints)
        except MalformedLine:
            yield prints
            raise
        yield prints


def read_lines(path: Path, first: int, text: bytes, market_ids: dict[str, int], *, copy_text: bool) -> Prints:
    """The prints of whole lines ``text`` (each ending in a newline) read as lines ``first``... of ``path``."""
    prints: Prints = []
    _read_chunk(_Chunk(path, first, text, market_ids, market_keys(market_ids), TapeResult(), copy_text), prints)
    return prints


def market_keys(market_ids: dict[str, int]) -> MarketKeys:
    return {ticker.encode(): (market_id, str(market_id).encode()) for ticker, market_id in market_ids.items()}


@dataclass
class _Chunk:
    path: Path
    first: int  # the number of the chunk's first line
    text: bytes
    market_ids: dict[str, int]
    keys: MarketKeys
    result: TapeResult
    copy_text: bool

    def line_number(self, offset: int) -> int:
        return self.first + self.text.count(b"\n", 0, offset)


def _read_chunk(chunk: _Chunk, prints: list[Any]) -> None:
    append, keys, copy_text, result = prints.append, chunk.keys, chunk.copy_text, chunk.result
    position = 0
    for match in _TAPE_LINE.finditer(chunk.text):
        start = match.start()
        if start != position:  # lines not in the tapes' own form
            _read_general(chunk, position, start, prints)
        position = match.end()
        trade_id, ticker, count, day, clock, price_pair, side = match.groups()
        prices = _PRICE_PAIRS.get(price_pair)
        valid_day = _DAYS.get(day)
        if valid_day is None:
            valid_day = _DAYS[day] = _is_date(day.decode())
        if prices is None or not valid_day:
            _read_general(chunk, start, position, prints)  # says what is wrong, with the line
            continue
        result.read += 1
        market = keys.get(ticker)
        if market is None:
            _unknown(result, ticker.decode())
        elif copy_text:
            append(b"%s\t%s\t%s\t%s\t%s\t%s %s\n" % (trade_id, market[1], count, prices[2], side, day, clock))
        else:
            whole, _, fraction = clock.decode().partition(".")
            created = stored_utc_text(day.decode(), whole, fraction)
            append((trade_id.decode(), market[0], count.decode(), prices[0], prices[1], side.decode(), created))
    if position != len(chunk.text):
        _read_general(chunk, position, len(chunk.text), prints)


def _read_general(chunk: _Chunk, start: int, end: int, prints: list[Any]) -> None:
    """Read whole lines chunk.text[start:end] with the JSON parser and every check."""
    first = chunk.line_number(start)
    for offset, raw in enumerate(chunk.text[start:end].split(b"\n")[:-1]):
        number = first + offset
        data = json_object(chunk.path, number, raw)
        if data is None:
            continue
        chunk.result.read += 1
        try:
            row = trade_row(data, chunk.market_ids)
        except RowError as exc:
            raise MalformedLine(chunk.path, number, str(exc)) from None
        if row is None:
            _unknown(chunk.result, str(data.get("ticker")))
        else:
            prints.append(copy_line(row) if chunk.copy_text else row)


def _unknown(result: TapeResult, ticker: str) -> None:
    result.unknown_market += 1
    if len(result.unknown_examples) < 3:
        result.unknown_examples.append(ticker)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def trade_row(data: dict[str, Any], market_ids: dict[str, int]) -> TradeRow | None:
    """Validate one print into text columns; None when its market is not imported."""
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
    created = stored_utc(trade.created_time)
    return (trade.trade_id, market_id, count, yes, no, str(trade.taker_side), created)


def _numbers(data: dict[str, Any], trade_id: str) -> tuple[str, str, str]:
    return _checked(count_of(data, "count"), price_of(data, "yes_price"), price_of(data, "no_price"), trade_id)


def _checked(count: Decimal | None, yes: Decimal | None, no: Decimal | None, trade_id: str) -> tuple[str, str, str]:
    if count is None or count <= 0:
        raise RowError(f"trade {trade_id}: count {count} is missing or not positive")
    if yes is None or no is None or yes + no != 1 or not 0 < yes < 1:
        raise RowError(f"trade {trade_id}: prices yes={yes} no={no} must lie inside (0, 1) and sum to 1")
    return str(count), str(yes), str(no)


def import_tape(
    path: Path, market_ids: dict[str, int], *, batch_size: int = BATCH_SIZE, progress: Progress = SILENT
) -> TapeResult:
    """Import one tape file. On a malformed line, the valid lines before it are stored first.

    Parsing and writing take turns in this thread: a writer thread was measured
    slower on both databases on a two-core machine, where the database server
    and Python already use both cores (on PostgreSQL, COPY streams each block
    to the server as soon as it is read, so the two overlap anyway). A tape
    that meets stored prints on PostgreSQL is read a second time, the careful
    way (see TapeWriter): re-imports find out at the first print. ``progress``
    advances by the file's size once, however many times it is read.
    """
    furthest = FurthestRead(progress)
    try:
        return _import_tape(path, market_ids, batch_size=batch_size, stream=True, progress=furthest)
    except StoredPrintMet:
        furthest.rewind()
        return _import_tape(path, market_ids, batch_size=batch_size, stream=False, progress=furthest)


def _import_tape(
    path: Path, market_ids: dict[str, int], *, batch_size: int, stream: bool, progress: Progress
) -> TapeResult:
    result = TapeResult()
    with TapeWriter(batch_size=batch_size, stream=stream) as writer:
        for prints in read_tape(path, market_ids, result, copy_text=writer.copy_text, progress=progress):
            writer.extend(prints)
    result.inserted = writer.inserted
    return result


class FurthestRead:
    """Passes on only the progress of reading past the furthest point any earlier reading reached.

    A tape that meets stored prints is read a second time (see import_tape):
    without this, its bytes would move the progress on twice.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._position = self._furthest = 0.0

    def rewind(self) -> None:
        """The file is read again from its start."""
        self._position = 0.0

    def stage(self, description: str, total: float | None = None) -> None:
        self._progress.stage(description, total)

    def advance(self, amount: float = 1) -> None:
        self._position += amount
        if self._position > self._furthest:
            self._progress.advance(self._position - self._furthest)
            self._furthest = self._position
