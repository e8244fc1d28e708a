"""Our WebSocket commands and the local exchange's frames against Kalshi's AsyncAPI document (read in place)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import jsonschema
import orjson
import pytest
import referencing
import referencing.jsonschema
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect

from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from localexchange.ws import LocalFeed
from markets.feed.protocol import WS_PATH, Channel, Commands, encode
from markets.schemas.enums import BookSide
from markets.signing import RequestSigner
from trading.fees import FeeSchedule

pytestmark = pytest.mark.kalshi_spec

SPEC_URI = "urn:kalshi:asyncapi"
# A threshold market: the spec's marketTicker pattern, ^[A-Z0-9-]+$, refuses the "." of bracket tickers
# (KXHIGHNY-25FEB20-B44.5) that Kalshi sends and that the spec's own examples show.
M = "KXHIGHNY-25FEB20-T45"
PAYLOADS = {
    "subscribed": "subscribedResponsePayload",
    "ok": "okResponsePayload",
    "unsubscribed": "unsubscribedResponsePayload",
    "error": "errorResponsePayload",
    "orderbook_snapshot": "orderbookSnapshotPayload",
    "orderbook_delta": "orderbookDeltaPayload",
    "trade": "tradePayload",
    "fill": "fillPayload",
}


@pytest.fixture(scope="module")
def validator(kalshi_spec_dir):
    document = yaml.safe_load((kalshi_spec_dir / "asyncapi.yaml").read_text(encoding="utf-8"))
    registry = referencing.Registry().with_resource(SPEC_URI, referencing.jsonschema.DRAFT7.create_resource(document))

    def validate(payload: dict, schema: str) -> None:
        assert schema in document["components"]["schemas"], f"the spec has no {schema}"
        jsonschema.Draft7Validator({"$ref": f"{SPEC_URI}#/components/schemas/{schema}"}, registry=registry).validate(
            payload
        )

    return validate


def test_our_commands_are_the_specs(validator):
    commands = Commands()
    validator(commands.subscribe(Channel.ORDERBOOK, [M]), "subscribeCommandPayload")
    validator(commands.subscribe(Channel.FILL), "subscribeCommandPayload")
    for update in (commands.add_markets(4, [M]), commands.delete_markets(4, [M]), commands.get_snapshot(4, [M])):
        validator(update, "updateSubscriptionCommandPayload")
    validator(commands.unsubscribe([4, 5]), "unsubscribeCommandPayload")


def test_every_frame_the_local_exchange_sends_is_the_specs(validator):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", Decimal(1)))
    for member in ("bot", "maker"):
        exchange.deposit(member, Decimal(100))
    feed = LocalFeed(exchange, {"bot": key.public_key()})
    at = datetime(2025, 2, 20, 15, tzinfo=UTC)

    async def frames() -> list[dict]:
        server = await feed.serve()
        port = server.sockets[0].getsockname()[1]
        signer = RequestSigner("bot", key)
        seen: list[dict] = []
        async with connect(f"ws://127.0.0.1:{port}{WS_PATH}", additional_headers=signer.headers("GET", WS_PATH)) as ws:
            commands = Commands()
            await exchange_place(feed, NewOrder("maker", M, BookSide.ASK, Decimal("0.40"), Decimal(5)), at)
            for command in (
                commands.subscribe(Channel.ORDERBOOK, [M]),
                commands.subscribe(Channel.TRADE, [M]),
                commands.subscribe(Channel.FILL),
                {"id": 99, "cmd": "dance", "params": {}},
            ):
                await ws.send(encode(command))
            while len(seen) < 5:  # three subscribed, a snapshot, an error
                seen.append(orjson.loads(await ws.recv()))
            await exchange_place(feed, NewOrder("bot", M, BookSide.BID, Decimal("0.45"), Decimal(2)), at)
            sids = {f["msg"]["channel"]: f["msg"]["sid"] for f in seen if f["type"] == "subscribed"}
            await ws.send(encode(commands.get_snapshot(sids["orderbook_delta"], [M])))
            await ws.send(encode(commands.unsubscribe([sids["trade"]])))
            while not any(f["type"] == "unsubscribed" for f in seen):
                seen.append(orjson.loads(await ws.recv()))
        server.close()
        await server.wait_closed()
        return seen

    seen = asyncio.run(frames())
    kinds = {frame["type"] for frame in seen}
    assert kinds == set(PAYLOADS), f"frames seen: {sorted(kinds)}"
    for frame in seen:
        validator(frame, PAYLOADS[frame["type"]])


async def exchange_place(feed: LocalFeed, order: NewOrder, at: datetime) -> None:
    await feed.place(order, at=at)
