"""Prints from the WebSocket trade channel reach the Trade table once, validated like imported tapes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from markets.feed.protocol import parse_frame
from markets.feed.tape import TapeRecorder
from markets.models import Trade
from markets.tests.factories import MarketFactory

pytestmark = pytest.mark.django_db

TRADE_ID = "d91bc706-ee49-470d-82d8-11418bda6fed"


def frame(seq: int = 1, **changes):
    msg = {
        "trade_id": TRADE_ID,
        "market_ticker": "KXHIGHNY-25MAR01-B44.5",
        "yes_price_dollars": "0.3600",
        "no_price_dollars": "0.6400",
        "count_fp": "12.00",
        "taker_side": "no",
        "taker_outcome_side": "no",
        "taker_book_side": "ask",
        "is_block_trade": False,
        "ts": 1740826800,
        "ts_ms": 1740826800123,
    }
    msg.update(changes)
    return parse_frame(orjson.dumps({"type": "trade", "sid": 4, "seq": seq, "msg": msg}))


@pytest.fixture
def recorder():
    market = MarketFactory.create(ticker="KXHIGHNY-25MAR01-B44.5")
    return TapeRecorder({market.ticker: market.pk})


def test_a_print_seen_twice_is_stored_once(recorder):
    recorder.add(frame(1))
    recorder.add(frame(2))  # the same print again, as after a reconnect
    assert recorder.flush() == 1
    recorder.add(frame(3))
    assert recorder.flush() == 0
    [trade] = Trade.objects.all()
    assert (trade.trade_id, trade.count, trade.yes_price, trade.no_price, trade.taker_side) == (
        TRADE_ID,
        Decimal("12.00"),
        Decimal("0.3600"),
        Decimal("0.6400"),
        "no",
    )
    assert trade.created_time == datetime(2025, 3, 1, 11, 0, 0, 123000, tzinfo=UTC)
    assert recorder.stored == 1


def test_bad_prints_and_unknown_markets_are_counted_not_stored(recorder, caplog):
    recorder.add(frame(yes_price_dollars="0.3600", no_price_dollars="0.6500"))
    recorder.add(frame(ts_ms="soon"))
    recorder.add(frame(market_ticker="KXHIGHCHI-25MAR01-B40.5"))
    assert recorder.pending == 0 and recorder.flush() == 0
    assert (recorder.rejected, recorder.unknown_markets) == (2, 1)
    assert "must lie inside (0, 1) and sum to 1" in caplog.text and "ts_ms 'soon'" in caplog.text
    assert not Trade.objects.exists()
