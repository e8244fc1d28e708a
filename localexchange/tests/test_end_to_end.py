"""The product's real Kalshi client and feed against the local exchange, over real sockets."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshiweb.modes import KalshiEnvironment, TradingMode
from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from localexchange.server import running
from localexchange.ws import Faults, LocalFeed
from markets.client import KalshiClient
from markets.errors import NotFound, OutcomeUnknown, RateLimited
from markets.feed.backoff import Backoff
from markets.feed.connection import FeedConnection
from markets.feed.protocol import Channel
from markets.feed.service import FeedRecorder
from markets.schemas.enums import BookSide, TimeInForce
from markets.schemas.orders import CreateOrderRequest, OrderAck
from markets.signing import RequestSigner
from markets.transport import ClientConfig, Timeouts
from trading.fees import FeeSchedule

M = "KXHIGHNY-25FEB20-B44.5"
D = Decimal


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_an_order_from_the_real_client_fills_and_its_fill_arrives_once(key):
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", D(1)))
    exchange.deposit("bot", D(1000))
    exchange.deposit("maker", D(1000))
    feed = LocalFeed(exchange, {"bot": key.public_key()})
    signer = RequestSigner("bot", key)

    async def scenario():
        async with running(feed) as urls:
            await feed.place(NewOrder("maker", M, BookSide.ASK, D("0.40"), D(5)), at=datetime.now(UTC))
            recorder = FeedRecorder({M: 1})
            connection = FeedConnection(urls.ws_url, signer, recorder, backoff=Backoff(0.01, 0.05))
            recorder.connection = connection
            connection.watch(Channel.ORDERBOOK, [M])
            connection.watch(Channel.FILL)
            stop = asyncio.Event()
            task = asyncio.create_task(connection.run(stop))
            async with asyncio.timeout(20):
                while recorder.books.get(M) is None or connection.subscribed != {Channel.ORDERBOOK, Channel.FILL}:
                    await asyncio.sleep(0.01)
                config = ClientConfig(urls.rest_url, KalshiEnvironment.DEMO, TradingMode.DEMO, signer=signer)
                answer, v1_error = await asyncio.to_thread(_trade, config)
                while recorder.account_frames["fill"] < 1 or _no_bids(recorder) != ((D("0.60"), D(2)),):
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)  # time for a duplicate to show itself
            stop.set()
            await task
            return answer, v1_error, recorder

    answer, v1_error, recorder = asyncio.run(scenario())
    assert isinstance(answer, OrderAck) and answer.fill_count == D(3) and answer.remaining_count == D(0)
    assert answer.average_fill_price == D("0.40")
    assert recorder.account_frames["fill"] == 1  # the fill arrived once
    assert exchange.markets[M].book.asks() == [(D("0.40"), D(2))]
    assert v1_error == (410, "deprecated_v1_order_endpoint")


def _trade(config: ClientConfig):
    """Place an order with the product's client; then try the retired V1 path by hand (no code of ours calls it)."""
    with KalshiClient(config) as client:
        request = CreateOrderRequest(M, BookSide.BID, D("0.45"), D(3), "bot-1", TimeInForce.IMMEDIATE_OR_CANCEL)
        answer = client.create_order(request)
    path = "/trade-api/v2/portfolio/orders"
    assert config.signer is not None
    v1 = httpx.post(config.base_url.removesuffix("/trade-api/v2") + path, headers=config.signer.headers("POST", path))
    return answer, (v1.status_code, v1.json()["code"])


def _no_bids(recorder: FeedRecorder) -> tuple[tuple[Decimal, Decimal], ...] | None:
    book = recorder.books.get(M)
    return None if book is None else book.levels("no")


@pytest.mark.parametrize(
    ("faults", "error", "rests"),
    [
        (Faults(rate_limit_rate=1.0), RateLimited, False),  # refused before anything happened
        # A 5xx to an order may have taken effect on Kalshi, so the client says unknown (here it had not).
        (Faults(server_error_rate=1.0), OutcomeUnknown, False),
        (Faults(hang_rate=1.0, hang_seconds=3.0), OutcomeUnknown, True),  # accepted; the answer came too late
    ],
)
def test_rest_faults_reach_the_client_as_what_they_mean(key, faults, error, rests):
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", D(1)))
    exchange.deposit("bot", D(1000))
    feed = LocalFeed(exchange, {"bot": key.public_key()}, faults=faults)
    signer = RequestSigner("bot", key)

    def create(config: ClientConfig) -> Exception | None:
        with KalshiClient(config) as client:
            try:
                client.create_order(
                    CreateOrderRequest(M, BookSide.BID, D("0.30"), D(2), "bot-2", TimeInForce.GOOD_TILL_CANCELED)
                )
            except Exception as exc:  # the test looks at which
                return exc
        return None

    async def scenario():
        async with running(feed) as urls:
            config = ClientConfig(
                urls.rest_url, KalshiEnvironment.DEMO, TradingMode.DEMO, signer=signer, timeouts=Timeouts(read=0.5)
            )
            return await asyncio.to_thread(create, config)

    raised = asyncio.run(scenario())
    assert isinstance(raised, error), raised
    assert bool(exchange.markets[M].book.bids()) is rests


def test_an_accepted_order_may_not_be_readable_at_once_and_then_reads_as_the_exchange_holds_it(key):
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", D(1)))
    exchange.deposit("bot", D(1000))
    exchange.deposit("maker", D(1000))
    feed = LocalFeed(exchange, {"bot": key.public_key()}, faults=Faults(unreadable_seconds=0.5))
    signer = RequestSigner("bot", key)

    def trade(config: ClientConfig):
        with KalshiClient(config) as client:
            request = CreateOrderRequest(M, BookSide.BID, D("0.40"), D(5), "bot-3", TimeInForce.GOOD_TILL_CANCELED)
            answer = client.create_order(request)
            assert isinstance(answer, OrderAck)
            try:
                client.get_order(answer.order_id)
                hidden = False
            except NotFound:
                hidden = True
            time.sleep(0.6)
            return hidden, client.get_order(answer.order_id)

    async def scenario():
        async with running(feed) as urls:
            await feed.place(NewOrder("maker", M, BookSide.ASK, D("0.40"), D(2)), at=datetime.now(UTC))
            config = ClientConfig(urls.rest_url, KalshiEnvironment.DEMO, TradingMode.DEMO, signer=signer)
            return await asyncio.to_thread(trade, config)

    hidden, order = asyncio.run(scenario())
    assert hidden  # accepted, yet not readable for a moment: the caller must not conclude it failed
    assert (order.client_order_id, order.status, order.book_side) == ("bot-3", "resting", BookSide.BID)
    assert (order.fill_count, order.remaining_count, order.initial_count) == (D(2), D(3), D(5))
    assert order.taker_fill_cost == D("0.80") and order.taker_fees == D("0.04")  # 0.07 x 2 x 0.4 x 0.6 -> 0.04
