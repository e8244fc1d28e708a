"""The feed service end to end over real sockets: books, a healed gap, the tape and the heartbeat stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from asgiref.sync import sync_to_async
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from websockets.asyncio.server import ServerConnection, serve

from kalshiweb.health import FEED_COMPONENT
from kalshiweb.models import Heartbeat
from markets.feed.protocol import WS_PATH
from markets.feed.service import run_feed
from markets.models import Market, OrderBookDelta, OrderBookSnapshot, Trade
from markets.signing import RequestSigner
from markets.tests.factories import MarketFactory

pytestmark = pytest.mark.django_db(transaction=True)

TICKER = "KXHIGHNY-25MAR01-B44.5"
D = Decimal
TRADE = {
    "trade_id": "5a0f2c1e-3b9d-4e8a-9f61-2d7c8b4a1e90",
    "market_ticker": TICKER,
    "yes_price_dollars": "0.4100",
    "no_price_dollars": "0.5900",
    "count_fp": "3.00",
    "taker_side": "yes",
    "taker_outcome_side": "yes",
    "taker_book_side": "bid",
    "is_block_trade": False,
    "ts": 1740826800,
    "ts_ms": 1740826800000,
}


def snapshot(seq: int, yes: list[list[str]], no: list[list[str]]) -> dict:
    msg = {"market_ticker": TICKER, "market_id": "m-1", "yes_dollars_fp": yes, "no_dollars_fp": no}
    return {"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": msg}


def delta(seq: int, price: str, change: str, side: str = "yes") -> dict:
    msg = {"market_ticker": TICKER, "market_id": "m-1", "price_dollars": price, "delta_fp": change, "side": side}
    return {"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": msg}


class ScriptedExchange:
    """Answers subscriptions; on the order book: a snapshot, a delta, then a gap; a fresh snapshot when asked."""

    def __init__(self) -> None:
        self.commands: list[dict] = []

    async def handle(self, connection: ServerConnection) -> None:
        sids = {"orderbook_delta": 1, "trade": 2}
        async for raw in connection:
            command = orjson.loads(raw)
            self.commands.append(command)
            if command["cmd"] == "subscribe":
                channel = command["params"]["channels"][0]
                sid = sids.get(channel, 10 + len(self.commands))
                await self.send(connection, {"id": command["id"], "type": "subscribed",
                                             "msg": {"channel": channel, "sid": sid}})  # fmt: skip
                if channel == "orderbook_delta":
                    await self.send(connection, snapshot(1, [["0.4000", "10.00"]], [["0.5500", "7.00"]]))
                    await self.send(connection, delta(2, "0.4200", "5.00"))
                    await self.send(connection, delta(4, "0.4300", "1.00"))  # seq 3 never comes
                elif channel == "trade":
                    for seq in (1, 2):  # the same print twice
                        await self.send(connection, {"type": "trade", "sid": 2, "seq": seq, "msg": TRADE})
            elif command["params"].get("action") == "get_snapshot":
                fresh = snapshot(5, [["0.4300", "2.00"], ["0.4200", "5.00"]], [["0.5600", "4.00"]])
                await self.send(connection, fresh)

    @staticmethod
    async def send(connection: ServerConnection, frame: dict) -> None:
        await connection.send(orjson.dumps(frame))


def test_the_feed_stores_books_and_prints_and_heals_a_gap():
    MarketFactory.create(ticker=TICKER, close_time=timezone.now() + timedelta(hours=12))
    MarketFactory.create(ticker="KXHIGHNY-25FEB27-B44.5", close_time=datetime(2025, 2, 28, 5, tzinfo=UTC))  # closed
    signer = RequestSigner("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    exchange = ScriptedExchange()

    def healed() -> bool:
        return OrderBookSnapshot.objects.filter(seq=5).exists() and Trade.objects.exists()

    async def scenario():
        async with serve(exchange.handle, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            stop = asyncio.Event()
            feed = asyncio.create_task(run_feed(signer, stop, url=f"ws://127.0.0.1:{port}{WS_PATH}", record_every=0.05))
            async with asyncio.timeout(15):
                while not await sync_to_async(healed)():
                    await asyncio.sleep(0.05)
            stop.set()
            return await feed

    recorder = asyncio.run(scenario())

    subscribed = {c["params"]["channels"][0]: c["params"] for c in exchange.commands if c["cmd"] == "subscribe"}
    assert subscribed["orderbook_delta"]["market_tickers"] == [TICKER]  # the closed market is not watched
    assert subscribed["fill"] == {"channels": ["fill"]}
    assert recorder.gaps == 1
    [ask] = [c for c in exchange.commands if c["cmd"] == "update_subscription"]
    assert ask["params"] == {"sids": [1], "market_tickers": [TICKER], "action": "get_snapshot"}

    market = Market.objects.get(ticker=TICKER)
    rows = list(OrderBookSnapshot.objects.filter(market=market).order_by("captured_at", "seq"))
    assert rows[-1].source == OrderBookSnapshot.Source.WEBSOCKET
    assert (rows[-1].yes_bids, rows[-1].no_bids) == ([["0.4300", "2.00"], ["0.4200", "5.00"]], [["0.5600", "4.00"]])
    assert all(row.seq in (1, 2, 5) for row in rows)  # never the book the gap left
    assert Trade.objects.filter(market=market).count() == 1
    # The delta applied in sequence is stored; the one after the gap was never applied.
    [change] = OrderBookDelta.objects.filter(market=market)
    assert (change.seq, change.side, change.price, change.delta) == (2, "yes", D("0.4200"), D("5.00"))

    beat = Heartbeat.objects.get(component=FEED_COMPONENT)
    assert beat.detail["trades_stored"] == 1 and beat.detail["gaps"] == 1
    assert beat.detail["markets"] == 1
    # Stopped: the last report says so, and the books it held are no longer live.
    assert beat.detail["connected"] is False and beat.detail["stopped"] is True and beat.detail["stale_books"] == 1


def test_runfeed_needs_a_key(monkeypatch):
    from django.core.management import CommandError, call_command

    monkeypatch.setattr("markets.management.commands.runfeed.configured_signer", lambda: None)
    with pytest.raises(CommandError, match=r"The feed needs a Kalshi API key .* KALSHI_API_KEY_ID"):
        call_command("runfeed", seconds=0.1)


def test_runfeed_streams_for_the_given_time_and_says_what_it_stored(monkeypatch):
    import threading
    from io import StringIO

    from django.core.management import call_command

    MarketFactory.create(ticker=TICKER, close_time=timezone.now() + timedelta(hours=12))
    signer = RequestSigner("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    monkeypatch.setattr("markets.management.commands.runfeed.configured_signer", lambda: signer)
    exchange, ready, done = ScriptedExchange(), threading.Event(), threading.Event()
    address: list[int] = []

    def serve_in_thread():
        async def main():
            async with serve(exchange.handle, "127.0.0.1", 0) as server:
                address.append(server.sockets[0].getsockname()[1])
                ready.set()
                while not done.is_set():
                    await asyncio.sleep(0.02)

        asyncio.run(main())

    thread = threading.Thread(target=serve_in_thread, daemon=True)
    thread.start()
    assert ready.wait(5)
    out = StringIO()
    try:
        call_command("runfeed", seconds=2, url=f"ws://127.0.0.1:{address[0]}{WS_PATH}", stdout=out)
    finally:
        done.set()
        thread.join(5)
    text = out.getvalue()
    assert f"Market feed: ws://127.0.0.1:{address[0]}{WS_PATH}" in text
    assert "from 1 markets; 1 new trades and" in text and "1 sequence gap(s), 0 reconnect(s)" in text
    assert Trade.objects.count() == 1 and OrderBookSnapshot.objects.exists()
