"""Mutations (never retried; OutcomeUnknown when unanswered) and the async client."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshiweb.modes import TradingMode
from markets import endpoints
from markets.calls import DryRunResult
from markets.client import AsyncKalshiClient
from markets.client_api import is_mutating
from markets.errors import Conflict, ExchangeUnavailable, OutcomeUnknown
from markets.signing import RequestSigner
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import (
    DEMO_URL,
    KEY_ID,
    NOW,
    FakeExchange,
    GetOnly,
    error,
    make_async_client,
    make_client,
    verify_signature,
)
from markets.tests.kalshi_payloads import TICKER, call_with_samples, order_request


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signer(private_key):
    return RequestSigner(KEY_ID, private_key, clock=lambda: NOW)


# --- mutations ---------------------------------------------------------------------------------


def test_it_does_not_retry_post_and_reports_a_5xx_as_outcome_unknown(signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", error(503))
    client = make_client(exchange, signer=signer)
    with pytest.raises(OutcomeUnknown) as info:
        client.create_order(order_request(client_order_id="kw-42"))
    assert info.value.client_order_id == "kw-42"
    assert len(exchange.requests) == 1
    assert client.recorder.slept == []


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("timed out"), httpx.WriteTimeout("timed out"), httpx.RemoteProtocolError("eof")]
)
def test_it_raises_outcome_unknown_when_a_post_times_out(failure, signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", failure)
    with pytest.raises(OutcomeUnknown, match="may have reached Kalshi") as info:
        make_client(exchange, signer=signer).create_order(order_request(client_order_id="kw-7"))
    assert info.value.client_order_id == "kw-7"
    assert len(exchange.requests) == 1


def test_a_post_that_cannot_connect_is_known_not_sent(signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", httpx.ConnectError("refused"))
    with pytest.raises(ExchangeUnavailable):
        make_client(exchange, signer=signer).create_order(order_request())
    assert len(exchange.requests) == 1


def test_it_does_not_retry_delete(signer):
    exchange = FakeExchange().on("DELETE", "/portfolio/orders/ord-1", httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown):
        make_client(exchange, signer=signer).cancel_order("ord-1")
    assert len(exchange.requests) == 1


def test_a_duplicate_client_order_id_is_a_conflict(signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", error(409, "order_already_exists", "duplicate"))
    with pytest.raises(Conflict, match="order_already_exists"):
        make_client(exchange, signer=signer).create_order(order_request())


def test_demo_mode_sends_orders_to_the_demo_exchange(signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", httpx.Response(201, json={"order": payloads.order()}))
    order = make_client(exchange, mode=TradingMode.DEMO, signer=signer).create_order(order_request())
    assert order.order_id == "ord-1"
    request = exchange.requests[0]
    assert str(request.url) == DEMO_URL + "/portfolio/orders"
    assert json.loads(request.content) == {
        "ticker": TICKER,
        "client_order_id": "kw-1",
        "side": "yes",
        "action": "buy",
        "count_fp": "10.00",
        "yes_price_dollars": "0.3100",
    }


def test_it_cancels_in_batches_and_reports_each_order(signer):
    answer = {
        "orders": [
            {"order_id": "ord-1", "order": payloads.order(status="canceled"), "reduced_by_fp": "8.00"},
            {"order_id": "ord-2", "reduced_by_fp": "0.00", "error": {"code": "not_found", "message": "no order"}},
        ]
    }
    exchange = FakeExchange().on("DELETE", "/portfolio/orders/batched", answer)
    items = make_client(exchange, signer=signer).batch_cancel_orders(["ord-1", "ord-2"])
    assert json.loads(exchange.requests[0].content) == {"orders": [{"order_id": "ord-1"}, {"order_id": "ord-2"}]}
    assert items[0].reduced_by == Decimal(8)
    assert items[1].error.code == "not_found"
    with pytest.raises(ValueError, match="1 to 20"):
        endpoints.batch_cancel_orders([f"o{n}" for n in range(21)])


def test_order_group_commands_accept_empty_answers(signer):
    exchange = (
        FakeExchange()
        .on("POST", "/portfolio/order_groups/create", httpx.Response(201, json={"order_group_id": "grp-1"}))
        .on("PUT", "/portfolio/order_groups/grp-1/reset", httpx.Response(200, content=b""))
        .on("DELETE", "/portfolio/order_groups/grp-1", {})
    )
    client = make_client(exchange, signer=signer)
    assert client.create_order_group(Decimal(50)) == "grp-1"
    assert json.loads(exchange.requests[0].content) == {"contracts_limit_fp": "50.00"}
    assert client.reset_order_group("grp-1") is None
    assert client.delete_order_group("grp-1") is None


# --- the async client ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_async_client_fetches_paginates_and_retries():
    exchange = FakeExchange().on(
        "GET",
        "/markets",
        error(503),
        {"markets": [payloads.market(ticker="A")], "cursor": "c1"},
        {"markets": [payloads.market(ticker="B")], "cursor": ""},
    )
    async with make_async_client(exchange) as client:
        tickers = [market.ticker async for market in client.iterate(endpoints.markets())]
    assert tickers == ["A", "B"]
    assert len(exchange.requests) == 3
    assert len(client.slept) == 1


@pytest.mark.anyio
async def test_the_async_client_signs_and_never_sends_mutations_in_dry_mode(signer, private_key):
    exchange = FakeExchange().on("GET", "/portfolio/balance", {"balance": 100, "portfolio_value": 0, "updated_ts": 1})
    async with make_async_client(exchange, mode=TradingMode.DRY, signer=signer) as client:
        balance = await client.fetch(endpoints.balance())
        result = await client.submit(endpoints.create_order(order_request()))
    assert balance.balance == Decimal(1)
    assert isinstance(result, DryRunResult)
    assert [r.method for r in exchange.requests] == ["GET"]
    verify_signature(
        private_key.public_key(), exchange.requests[0].headers, b"1772463600000GET/trade-api/v2/portfolio/balance"
    )


@pytest.mark.anyio
async def test_the_async_client_raises_outcome_unknown_on_a_post_timeout(signer):
    exchange = FakeExchange().on("POST", "/portfolio/orders", httpx.ReadTimeout("timed out"))
    async with make_async_client(exchange, signer=signer) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.submit(endpoints.create_order(order_request(client_order_id="kw-3")))
    assert info.value.client_order_id == "kw-3"


@pytest.mark.anyio
async def test_every_mutating_method_of_the_async_client_dry_runs(signer):
    exchange = GetOnly()
    mutating = [name for name, fn in inspect.getmembers(AsyncKalshiClient, inspect.isfunction) if is_mutating(fn)]
    assert mutating == ["submit"]
    async with make_async_client(exchange, mode=TradingMode.DRY, signer=signer) as client:
        for name in mutating:
            assert isinstance(await call_with_samples(getattr(client, name)), DryRunResult)
    assert exchange.requests == []
