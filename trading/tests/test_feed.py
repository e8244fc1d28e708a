"""Our fills and order updates from the WebSocket, into Fill and Order: each fill once, orders as the exchange says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from localexchange.ws import Faults, LocalFeed
from markets.feed.backoff import Backoff
from markets.feed.connection import FeedConnection
from markets.feed.protocol import Channel, parse_frame
from markets.feed.service import FeedRecorder
from markets.schemas.enums import BookSide
from markets.signing import RequestSigner
from markets.tests.factories import MarketFactory
from trading.feed import AccountRecorder
from trading.fees import FeeSchedule
from trading.models import Fill, Order, Position
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

TICKER = "KXHIGHNY-25FEB20-B44.5"
D = Decimal


def fill_frame(**changes):
    msg = {
        "trade_id": "4f2c8e1a-0d3b-4b5e-9a7c-6e1f2d3c4b5a",
        "order_id": "ord-9",
        "market_ticker": TICKER,
        "is_taker": True,
        "yes_price_dollars": "0.3500",
        "count_fp": "4.00",
        "fee_cost": "0.0700",
        "book_side": "ask",
        "outcome_side": "no",
        "ts_ms": 1740063600250,
    }
    msg.update(changes)
    return parse_frame(orjson.dumps({"type": "fill", "sid": 7, "msg": msg}))


def order_frame(**changes):
    msg = {"order_id": "ord-9", "client_order_id": "kw-1", "status": "executed", "fill_count_fp": "4.00",
           "remaining_count_fp": "0.00", "taker_fees_dollars": "0.0700", "maker_fees_dollars": "0.0000"}  # fmt: skip
    msg.update(changes)
    return parse_frame(orjson.dumps({"type": "user_order", "sid": 8, "msg": msg}))


def test_a_fill_heard_twice_is_booked_once_in_v2_terms_and_linked_to_its_order():
    market = MarketFactory.create(ticker=TICKER)
    ours = OrderFactory.create(market=market, exchange_order_id="ord-9", book_side="ask", price=D("0.35"))
    recorder = AccountRecorder()
    recorder.add(fill_frame())
    recorder.add(fill_frame())
    assert recorder.flush() == {"fills": 1, "orders": 0}
    recorder.add(fill_frame())  # after a reconnect, say
    assert recorder.flush() == {"fills": 0, "orders": 0}
    [fill] = Fill.objects.all()
    assert (fill.trade_id, fill.order_id, fill.market_id) == (
        "4f2c8e1a-0d3b-4b5e-9a7c-6e1f2d3c4b5a",
        ours.pk,
        market.pk,
    )
    assert (fill.book_side, fill.count, fill.price, fill.own_price, fill.fee) == (
        "ask",
        D(4),
        D("0.35"),
        D("0.65"),
        D("0.07"),
    )
    position = Position.objects.get(ticker=TICKER)  # bought 4 NO at $0.65: the ledger moved once
    assert (position.no_count, position.total_cost, position.fees_paid) == (D(4), D("2.60"), D("0.07"))
    assert fill.created_time == datetime(2025, 2, 20, 15, 0, 0, 250000, tzinfo=UTC) and fill.is_taker


def test_a_fill_without_its_fee_is_stored_with_zero_and_said(caplog):
    recorder = AccountRecorder()
    recorder.add(fill_frame(fee_cost=None))
    recorder.add(fill_frame(trade_id="x", count_fp="lots"))
    assert recorder.flush() == {"fills": 1, "orders": 0} and recorder.rejected == 1
    fill = Fill.objects.get()
    assert fill.fee == 0 and not fill.fee_known
    assert "without its fee: booked at $0 until reconciliation" in caplog.text and "count_fp" in caplog.text


def test_order_updates_change_our_orders_only():
    ours = OrderFactory.create(client_order_id="kw-1", status=Order.Status.RESTING, remaining_count=D(4))
    recorder = AccountRecorder()
    recorder.add(order_frame(status="resting", fill_count_fp="1.00", remaining_count_fp="3.00"))
    recorder.add(order_frame())  # the latest update of an order wins
    recorder.add(order_frame(order_id="someone-elses", client_order_id="other"))
    assert recorder.flush() == {"fills": 0, "orders": 1}
    ours.refresh_from_db()
    assert (ours.status, ours.exchange_order_id, ours.filled_count, ours.remaining_count, ours.fees) == (
        Order.Status.EXECUTED,
        "ord-9",
        D(4),
        D(0),
        D("0.07"),
    )


@pytest.mark.django_db(transaction=True)
def test_an_order_that_fills_on_the_local_exchange_is_stored_once_though_every_frame_comes_twice():
    MarketFactory.create(ticker=TICKER)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    exchange = Exchange()
    exchange.open_market(TICKER, FeeSchedule("quadratic", D(1)))
    exchange.deposit("bot", D(100))
    exchange.deposit("maker", D(100))
    feed = LocalFeed(exchange, {"bot": key.public_key()}, faults=Faults(duplicate_rate=1.0))
    at = datetime(2025, 2, 20, 15, tzinfo=UTC)

    async def scenario() -> FeedRecorder:
        server = await feed.serve()
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/trade-api/ws/v2"
        recorder = FeedRecorder({TICKER: 1})
        connection = FeedConnection(url, RequestSigner("bot", key), recorder, backoff=Backoff(0.01, 0.05))
        recorder.connection = connection
        connection.watch(Channel.FILL)
        stop = asyncio.Event()
        task = asyncio.create_task(connection.run(stop))
        async with asyncio.timeout(10):
            while Channel.FILL not in connection.subscribed:
                await asyncio.sleep(0.01)
            await feed.place(NewOrder("maker", TICKER, BookSide.ASK, D("0.40"), D(5)), at=at)
            await feed.place(NewOrder("bot", TICKER, BookSide.BID, D("0.45"), D(3)), at=at)
            while recorder.account_frames["fill"] < 2:
                await asyncio.sleep(0.01)
        stop.set()
        await task
        server.close()
        return recorder

    recorder = asyncio.run(scenario())
    recorder.record(datetime.now(UTC))
    assert recorder.account_frames["fill"] == 2  # the frame came twice
    [fill] = Fill.objects.all()  # and is stored once
    assert (fill.book_side, fill.count, fill.price, fill.is_taker) == ("bid", D(3), D("0.40"), True)
    assert fill.fee == D("0.06")  # 0.07 x 3 x 0.4 x 0.6 = 0.0504, rounded up to the cent
