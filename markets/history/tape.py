"""Bulk, idempotent import of Kalshi's public trade tape.

A tape is hundreds of thousands of prints, so rows skip the ORM: each line is
validated into a tuple of exact text values and written in batches, on
PostgreSQL with COPY into a temporary stage followed by ``INSERT ... ON
CONFLICT (trade_id) DO NOTHING``, on SQLite with ``INSERT OR IGNORE``. Batches
are committed as they go, so a bad line stops the import with everything
before it stored; re-importing a tape inserts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction

from markets.history.readers import MalformedLine, json_objects
from markets.models import Trade
from markets.schemas.market_data import Trade as TradeData
from markets.units import CENTS_TEXT, UnitError, count_of, price_of, utc_text

BATCH_SIZE = 50_000
SQLITE_IMPORT_CACHE_KIB = -64 * 1024  # negative: KiB, per SQLite's convention
# Also guarantees the id is safe to write into COPY's tab-separated text unescaped.
_TRADE_ID = re.compile(r"^[0-9A-Za-z._:-]{1,64}$")
_SIDES = frozenset({"yes", "no"})
_STAGE = "kalshiweb_trade_stage"
TradeRow = tuple[str, int, str, str, str, str, str]


class RowError(ValueError):
    """A print that does not validate; the caller adds file and line."""


@dataclass
class TapeResult:
    read: int = 0
    inserted: int = 0
    unknown_market: int = 0
    unknown_examples: list[str] = field(default_factory=list)


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


def _columns() -> tuple[str, str]:
    """The table and column list, from the model (so SQL built from them is not user input)."""
    names = ["trade_id", "market", "count", "yes_price", "no_price", "taker_side", "created_time"]
    columns = []
    for name in names:
        field = Trade._meta.get_field(name)
        if not isinstance(field, models.Field) or field.column is None:
            raise TypeError(f"Trade.{name} is not a concrete column")
        columns.append(field.column)
    return Trade._meta.db_table, ", ".join(columns)


def _write_postgresql(rows: list[TradeRow]) -> int:
    table, columns = _columns()
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} AS "  # noqa: S608 - names from _columns
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        # Emptied per batch, not ON COMMIT: inside a caller's transaction no commit comes
        # between batches, and each INSERT would re-read everything staged so far.
        cursor.execute(f"TRUNCATE {_STAGE}")
        with cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            # Every value was validated above (ids match _TRADE_ID, the rest are numbers,
            # 'yes'/'no' and timestamps), so none needs COPY escaping.
            copy.write("".join(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\n" for r in rows))
        insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGE} ON CONFLICT (trade_id) DO NOTHING"  # noqa: S608
        cursor.execute(insert)
        return int(cursor.rowcount)


def _write_sqlite(rows: list[TradeRow]) -> int:
    table, columns = _columns()
    with connection.cursor() as cursor:
        # Trade ids are random, so each insert lands on a random page of the primary-key
        # index; SQLite's default 2 MB page cache turns that into a read per row once the
        # tape outgrows it. 64 MB holds a million-print index (measured 30% faster).
        cursor.execute(f"PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}")
        sql = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608 - see _columns
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)


def write_batch(rows: list[TradeRow]) -> int:
    """Insert the rows that are new, in one transaction; returns how many were new."""
    if not rows:
        return 0
    writer = _write_postgresql if connection.vendor == "postgresql" else _write_sqlite
    with transaction.atomic():
        return writer(rows)


def import_tape(
    path: Path,
    market_ids: dict[str, int],
    *,
    batch_size: int = BATCH_SIZE,
    lines: Iterable[tuple[int, dict[str, Any]]] | None = None,
) -> TapeResult:
    """Import one tape file. On a malformed line, the valid lines before it are stored first.

    Parsing and writing take turns in this thread: a writer thread was measured
    slower on both databases on a two-core machine, where the database server
    and Python already use both cores.
    """
    result = TapeResult()
    batch: list[TradeRow] = []
    try:
        for number, data in lines if lines is not None else json_objects(path):
            result.read += 1
            try:
                row = trade_row(data, market_ids)
            except RowError as exc:
                raise MalformedLine(path, number, str(exc)) from None
            if row is None:
                result.unknown_market += 1
                if len(result.unknown_examples) < 3:
                    result.unknown_examples.append(str(data.get("ticker")))
                continue
            batch.append(row)
            if len(batch) >= batch_size:
                result.inserted += write_batch(batch)
                batch = []
    finally:
        result.inserted += write_batch(batch)
    return result
