"""The real feed client against the local exchange over real sockets: books that match, gaps healed, drops survived."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localexchange.exchange import Exchange
from localexchange.matching import NewOrder, OrderRefused
from localexchange.ws import Faults, LocalFeed
from markets.feed.backoff import Backoff
from markets.feed.connection import FeedConnection
from markets.feed.protocol import WS_PATH, Channel
from markets.feed.service import FeedRecorder
from markets.schemas.enums import BookSide, TimeInForce
from markets.signing import RequestSigner
from trading.fees import FeeSchedule

AT = datetime(2025, 2, 20, 15, tzinfo=UTC)
M = "KXHIGHNY-25FEB20-B44.5"
D = Decimal


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def venue() -> Exchange:
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", D(1)))
    for member in ("bot", "maker-1", "maker-2"):
        exchange.deposit(member, D(10_000))
    return exchange


def random_flow(seed: int, n: int) -> list[NewOrder]:
    rng = random.Random(seed)
    return [
        NewOrder(
            rng.choice(["maker-1", "maker-2"]),
            M,
            rng.choice([BookSide.BID, BookSide.ASK]),
            D(rng.randint(35, 65)) / 100,
            D(rng.randint(1, 30)),
            time_in_force=rng.choice([TimeInForce.GOOD_TILL_CANCELED] * 4 + [TimeInForce.IMMEDIATE_OR_CANCEL]),
        )
        for _ in range(n)
    ]


def same_book(recorder: FeedRecorder, exchange: Exchange) -> bool:
    book = recorder.books.get(M)
    if book is None or book.stale:
        return False
    theirs = exchange.markets[M].book
    return list(book.levels("yes")) == theirs.bids() and list(book.levels("no")) == theirs.no_bids()


async def run(key, faults: Faults, flow: list[NewOrder], *, drop_midway: bool = False):
    exchange = venue()
    feed = LocalFeed(exchange, {"bot": key.public_key()}, faults=faults)
    server = await feed.serve()
    port = server.sockets[0].getsockname()[1]
    recorder = FeedRecorder({M: 1})
    connection = FeedConnection(
        f"ws://127.0.0.1:{port}{WS_PATH}", RequestSigner("bot", key), recorder, backoff=Backoff(0.01, 0.05)
    )
    recorder.connection = connection
    connection.watch(Channel.ORDERBOOK, [M])
    connection.watch(Channel.TRADE, [M])
    stop = asyncio.Event()
    task = asyncio.create_task(connection.run(stop))
    try:
        async with asyncio.timeout(20):
            while recorder.books.get(M) is None:
                await asyncio.sleep(0.01)
            for number, order in enumerate(flow):
                with contextlib.suppress(OrderRefused):  # e.g. an order its member cannot afford
                    await feed.place(order, at=AT)
                if drop_midway and number == len(flow) // 2:
                    await feed.drop_connections()
                await asyncio.sleep(0)
            while not same_book(recorder, exchange):  # gaps heal by snapshot; the last frames may need one
                recorder.ask_again()
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        server.close()
        await server.wait_closed()
    return recorder, connection, exchange, feed


def test_the_client_book_follows_the_exchange_frame_by_frame(key):
    recorder, connection, exchange, _ = asyncio.run(run(key, Faults(), random_flow(1, 200)))
    assert recorder.gaps == 0 and connection.state.connects == 1
    assert exchange.markets[M].book.bids() and exchange.markets[M].book.asks()
    assert recorder.tape.pending > 0  # the trades arrived too (stored by the service's record cycle)


def test_gaps_duplicates_and_reorders_are_caught_and_healed_by_snapshots(key):
    faults = Faults(seed=7, gap_rate=0.02, duplicate_rate=0.05, reorder_rate=0.05)
    recorder, _, _, _ = asyncio.run(run(key, faults, random_flow(2, 300)))
    assert recorder.gaps >= 1  # and yet the book ended equal to the exchange's (run() waits for it)


def test_a_dropped_connection_is_recovered_and_the_book_rebuilt(key):
    _, connection, _, _ = asyncio.run(run(key, Faults(), random_flow(3, 200), drop_midway=True))
    assert connection.state.reconnects >= 1


def test_a_handshake_with_an_unknown_key_is_refused(key):
    async def scenario():
        exchange = venue()
        feed = LocalFeed(exchange, {"someone-else": key.public_key()})
        server = await feed.serve()
        port = server.sockets[0].getsockname()[1]
        recorder = FeedRecorder({M: 1})
        connection = FeedConnection(
            f"ws://127.0.0.1:{port}{WS_PATH}", RequestSigner("bot", key), recorder, backoff=Backoff(0.01, 0.02)
        )
        connection.watch(Channel.ORDERBOOK, [M])
        stop = asyncio.Event()
        task = asyncio.create_task(connection.run(stop))
        async with asyncio.timeout(10):
            while feed.handshakes_refused < 2:
                await asyncio.sleep(0.01)
        stop.set()
        await task
        server.close()
        return connection

    connection = asyncio.run(scenario())
    assert connection.state.connects == 0 and any("401" in e for e in connection.state.errors)


def test_a_book_that_drifts_without_a_gap_is_caught_by_verifying_snapshots(key):
    async def scenario():
        exchange = venue()
        faults = Faults()
        feed = LocalFeed(exchange, {"bot": key.public_key()}, faults=faults)
        server = await feed.serve()
        port = server.sockets[0].getsockname()[1]
        recorder = FeedRecorder({M: 1}, account=False)
        connection = FeedConnection(
            f"ws://127.0.0.1:{port}{WS_PATH}", RequestSigner("bot", key), recorder, backoff=Backoff(0.01, 0.05)
        )
        recorder.connection = connection
        connection.watch(Channel.ORDERBOOK, [M])
        stop = asyncio.Event()
        task = asyncio.create_task(connection.run(stop))
        async with asyncio.timeout(20):
            while recorder.books.get(M) is None:
                await asyncio.sleep(0.01)
            await feed.place(NewOrder("maker-1", M, BookSide.BID, D("0.40"), D(5)), at=AT)
            faults.stale_rate = 1.0  # the next deltas never leave the exchange, and no seq is skipped
            await feed.place(NewOrder("maker-2", M, BookSide.BID, D("0.41"), D(7)), at=AT)
            faults.stale_rate = 0.0
            await feed.place(NewOrder("maker-1", M, BookSide.ASK, D("0.55"), D(3)), at=AT)
            while (book := recorder.books.get(M)) is None or book.levels("no") == ():
                await asyncio.sleep(0.01)
            drifted = not same_book(recorder, exchange)
            recorder.verify()
            while not same_book(recorder, exchange):
                await asyncio.sleep(0.01)
        stop.set()
        await task
        server.close()
        return drifted, recorder

    drifted, recorder = asyncio.run(scenario())
    assert drifted and recorder.gaps == 0  # no sequence number told
    assert recorder.divergences == 1  # the verifying snapshot did, and replaced the book
