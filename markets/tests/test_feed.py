"""The WebSocket feed connection against a Kalshi-shaped server on 127.0.0.1, over real sockets."""

from __future__ import annotations

import asyncio
import base64
import random
from dataclasses import dataclass, field
from http import HTTPStatus

import orjson
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.asyncio.server import ServerConnection, serve

from markets.feed.backoff import Backoff
from markets.feed.connection import FeedConnection
from markets.feed.protocol import WS_PATH, Acknowledged, Channel, Commands, Data, ProtocolError, Refused, parse_frame
from markets.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, RequestSigner, signing_message

A, B, C = "KXHIGHNY-25MAR01-B40.5", "KXHIGHNY-25MAR01-B42.5", "KXHIGHNY-25MAR01-B44.5"


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Exchange:
    """A Kalshi-shaped WebSocket endpoint: checks the signed handshake, answers subscriptions, sends a snapshot.

    ``drop_after`` closes the first connection after its snapshots; ``refuse`` answers the first
    subscription with that error code instead.
    """

    public_key: rsa.RSAPublicKey
    drop_after_first: bool = False
    refuse_first: int | None = None
    connections: int = 0
    commands: list[list[dict]] = field(default_factory=list)
    rejected_handshakes: int = 0
    next_sid: int = 0

    def check_handshake(self, connection: ServerConnection, request):
        headers = request.headers
        try:
            timestamp = int(headers[TIMESTAMP_HEADER])
            signature = base64.b64decode(headers[SIGNATURE_HEADER])
            self.public_key.verify(
                signature,
                signing_message(timestamp, "GET", request.path),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                hashes.SHA256(),
            )
        except (KeyError, ValueError, InvalidSignature):
            self.rejected_handshakes += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad signature\n")
        if request.path != WS_PATH or not headers.get(KEY_HEADER):
            return connection.respond(HTTPStatus.NOT_FOUND, "no such path\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        first = self.connections == 1
        received: list[dict] = []
        self.commands.append(received)
        async for raw in connection:
            command = orjson.loads(raw)
            received.append(command)
            if command["cmd"] == "subscribe":
                if first and self.refuse_first is not None:
                    refusal = {"code": self.refuse_first, "msg": "buffer overflow"}
                    await self._send(connection, {"id": command["id"], "type": "error", "msg": refusal})
                    continue
                self.next_sid += 1
                sid = self.next_sid
                channel = command["params"]["channels"][0]
                await self._send(connection, {"id": command["id"], "type": "subscribed",
                                              "msg": {"channel": channel, "sid": sid}})  # fmt: skip
                for seq, ticker in enumerate(command["params"].get("market_tickers", []), start=1):
                    await self._send(connection, {"type": "orderbook_snapshot", "sid": sid, "seq": seq,
                                                  "msg": {"market_ticker": ticker}})  # fmt: skip
                if first and self.drop_after_first:
                    await connection.close()
                    return
            elif command["cmd"] == "update_subscription":
                params = command["params"]
                ok = {"id": command["id"], "type": "ok", "sid": params["sids"][0], "msg": {"market_tickers": []}}
                await self._send(connection, ok)

    @staticmethod
    async def _send(connection: ServerConnection, frame: dict) -> None:
        await connection.send(orjson.dumps(frame).decode())


@dataclass
class Recorder:
    subscribed: list[tuple[Channel, int]] = field(default_factory=list)
    data: list[Data] = field(default_factory=list)
    disconnects: int = 0

    def on_subscribed(self, channel: Channel, sid: int) -> None:
        self.subscribed.append((channel, sid))

    def on_data(self, frame: Data, raw: str | bytes) -> None:
        self.data.append(frame)

    def on_disconnected(self) -> None:
        self.disconnects += 1


async def run_until(exchange: Exchange, signer, done, *, setup=None, timeout: float = 10.0):
    """Serve ``exchange`` on a free port and run a feed against it until ``done(recorder)`` holds."""
    recorder = Recorder()
    async with serve(exchange.handle, "127.0.0.1", 0, process_request=exchange.check_handshake) as server:
        port = server.sockets[0].getsockname()[1]
        feed = FeedConnection(
            f"ws://127.0.0.1:{port}{WS_PATH}", signer, recorder, backoff=Backoff(0.01, 0.05, random.Random(1))
        )
        feed.watch(Channel.ORDERBOOK, [A, B])
        feed.watch(Channel.FILL)
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        try:
            async with asyncio.timeout(timeout):
                if setup is not None:
                    await setup(feed, recorder)
                while not done(recorder, feed):
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
    return recorder, feed


def test_it_signs_the_handshake_subscribes_and_hands_on_the_snapshots(key):
    exchange = Exchange(key.public_key())
    recorder, feed = asyncio.run(
        run_until(exchange, RequestSigner("key-1", key), lambda r, f: len(r.data) >= 2 and len(r.subscribed) >= 2)
    )
    assert exchange.rejected_handshakes == 0
    [commands] = exchange.commands
    assert [c["params"] for c in commands] == [
        {"channels": ["orderbook_delta"], "market_tickers": [A, B]},
        {"channels": ["fill"]},
    ]
    assert {channel for channel, _ in recorder.subscribed} == {Channel.ORDERBOOK, Channel.FILL}
    assert [(d.type, d.seq, d.msg["market_ticker"]) for d in recorder.data] == [
        ("orderbook_snapshot", 1, A),
        ("orderbook_snapshot", 2, B),
    ]
    assert feed.state.connects == 1 and feed.state.reconnects == 0 and not feed.state.connected  # stopped


def test_a_dropped_connection_is_reconnected_and_subscribed_again(key):
    exchange = Exchange(key.public_key(), drop_after_first=True)
    recorder, feed = asyncio.run(
        run_until(exchange, RequestSigner("key-1", key), lambda r, f: f.state.reconnects >= 1 and len(r.data) >= 4)
    )
    assert exchange.connections == 2 and recorder.disconnects >= 1
    assert feed.state.reconnects == 1
    second = exchange.commands[1]
    assert second[0]["params"] == {"channels": ["orderbook_delta"], "market_tickers": [A, B]}
    # New subscription ids after the reconnect: the handler hears them, so it can drop what it held.
    orderbook_sids = [sid for channel, sid in recorder.subscribed if channel is Channel.ORDERBOOK]
    assert len(orderbook_sids) == 2 and orderbook_sids[0] != orderbook_sids[1]


def test_a_terminal_channel_error_makes_it_subscribe_again(key):
    exchange = Exchange(key.public_key(), refuse_first=25)
    _, feed = asyncio.run(
        run_until(
            exchange, RequestSigner("key-1", key), lambda r, f: any(c is Channel.ORDERBOOK for c, _ in r.subscribed)
        )
    )
    assert exchange.connections == 2
    assert any("error 25 (subscription buffer overflow)" in e for e in feed.state.errors)


def test_markets_that_open_later_are_added_to_the_live_subscription(key):
    exchange = Exchange(key.public_key())

    async def follow_c(feed, recorder):
        while not any(c is Channel.ORDERBOOK for c, _ in recorder.subscribed):
            await asyncio.sleep(0.01)
        await feed.follow(Channel.ORDERBOOK, [B, C])  # B is watched already
        assert await feed.resync(Channel.ORDERBOOK, [A])

    asyncio.run(
        run_until(
            exchange,
            RequestSigner("key-1", key),
            lambda r, f: len(exchange.commands[0]) >= 4,
            setup=follow_c,
        )
    )
    updates = [c["params"] for c in exchange.commands[0] if c["cmd"] == "update_subscription"]
    sid = updates[0]["sids"][0]
    assert updates == [
        {"sids": [sid], "market_tickers": [C], "action": "add_markets"},
        {"sids": [sid], "market_tickers": [A], "action": "get_snapshot"},
    ]


def test_a_badly_signed_handshake_is_refused_and_retried_with_backoff(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    exchange = Exchange(key.public_key())
    recorder, feed = asyncio.run(
        run_until(exchange, RequestSigner("key-1", other), lambda r, f: exchange.rejected_handshakes >= 2)
    )
    assert exchange.connections == 0 and not recorder.subscribed
    assert any("401" in error for error in feed.state.errors)


def test_commands_have_ids_unique_on_the_connection_and_need_their_markets():
    commands = Commands()
    first, second = commands.subscribe(Channel.TICKER, [A]), commands.unsubscribe([3])
    assert (first["id"], second["id"]) == (1, 2)
    assert second == {"id": 2, "cmd": "unsubscribe", "params": {"sids": [3]}}
    with pytest.raises(ProtocolError, match="needs market tickers"):
        commands.subscribe(Channel.ORDERBOOK)
    with pytest.raises(ProtocolError, match="add_markets needs market tickers"):
        commands.add_markets(1, [])


def test_frames_are_typed_and_bad_ones_named():
    data = parse_frame(b'{"type":"orderbook_delta","sid":3,"seq":9,"msg":{"market_ticker":"X"}}')
    assert isinstance(data, Data) and (data.sid, data.seq) == (3, 9)
    refused = parse_frame('{"id":4,"type":"error","msg":{"code":27,"msg":"slow down"}}')
    assert isinstance(refused, Refused) and not refused.terminal
    assert refused.describe() == "Kalshi WebSocket error 27 (too many requests): slow down"
    assert isinstance(parse_frame('{"id":5,"sid":2,"seq":7,"type":"unsubscribed"}'), Acknowledged)
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_frame(b"{nope")
    with pytest.raises(ProtocolError, match="seq must be an integer"):
        parse_frame('{"type":"trade","sid":1,"seq":"9","msg":{}}')
    with pytest.raises(ProtocolError, match="subscribed frame without sid"):
        parse_frame('{"id":1,"type":"subscribed","msg":{"channel":"ticker"}}')


def test_backoff_grows_with_full_jitter_and_resets():
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == 6  # jittered, not a fixed ladder
    backoff.reset()
    assert backoff.next_delay() <= 1.0
    with pytest.raises(ValueError, match="base <= cap"):
        Backoff(base=5.0, cap=1.0)
