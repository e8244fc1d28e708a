"""The live trade tape: prints from the WebSocket ``trade`` channel into the Trade table.

The same validation as the imported tapes (markets.history.tape.trade_row) and
the same idempotent insert (the primary key is market and trade id), so a
print seen twice — a duplicated frame, a reconnect that replays, a REST
backfill of the same hour — is stored once. Prints are buffered and written
in one transaction per flush, at the recorder's cadence.
"""

from __future__ import annotations

import logging
from typing import Any

from markets.feed.protocol import Data, ms_text
from markets.history.tape import RowError, trade_row
from markets.history.tape_store import TradeRow, write_batch

logger = logging.getLogger(__name__)


class TapeRecorder:
    """Buffers validated prints of the markets it knows; ``flush`` stores the new ones."""

    def __init__(self, market_ids: dict[str, int]) -> None:
        self.market_ids = market_ids  # ticker → Market id; the feed adds markets as it follows them
        self._rows: list[TradeRow] = []
        self.stored = 0
        self.unknown_markets = 0
        self.rejected = 0

    def add(self, frame: Data) -> None:
        """Buffer the print of one ``trade`` frame; a malformed one is logged and counted, never stored."""
        try:
            row = trade_row(_as_tape_line(frame.msg), self.market_ids)
        except RowError as exc:
            self.rejected += 1
            logger.warning("Kalshi WebSocket trade (sid %s, seq %s) not stored: %s", frame.sid, frame.seq, exc)
            return
        if row is None:
            self.unknown_markets += 1
            return
        self._rows.append(row)

    @property
    def pending(self) -> int:
        return len(self._rows)

    def flush(self) -> int:
        """Store the buffered prints not stored before; returns how many were new."""
        rows, self._rows = self._rows, []
        new = write_batch(rows)
        self.stored += new
        return new


def _as_tape_line(msg: Any) -> dict[str, Any]:
    """A trade frame's body in the shape of a tape line (ticker, taker side, created time)."""
    created = msg.get("ts_ms")
    if type(created) is not int:
        raise RowError(f"trade {msg.get('trade_id')!r}: ts_ms {created!r} is not an integer of milliseconds")
    return {
        "trade_id": msg.get("trade_id"),
        "ticker": msg.get("market_ticker"),
        # The outcome side the taker bought: the legacy taker_side's meaning, under its new name.
        "taker_side": msg.get("taker_outcome_side", msg.get("taker_side")),
        "count_fp": msg.get("count_fp"),
        "yes_price_dollars": msg.get("yes_price_dollars"),
        "no_price_dollars": msg.get("no_price_dollars"),
        "created_time": ms_text(created),
    }
