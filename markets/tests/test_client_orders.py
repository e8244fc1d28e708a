"""Mutations (never retried; OutcomeUnknown when unanswered) and the async client."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshiweb.modes import TradingMode
from markets import endpoints
from markets.calls import Command, DryRunResult
from markets.client import AsyncKalshiClient
from markets.client_api import is_mutating
from markets.errors import Conflict, ExchangeUnavailable, Gone, OutcomeUnknown
from markets.schemas import AcceptedDetailsUnknown, BookSide, OrderAck, OrderRejected, OrderStatus
from markets.signing import KEY_HEADER, RequestSigner
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
    paginated,
    verify_signature,
)
from markets.tests.kalshi_payloads import DROP, TICKER, call_with_samples, order_request

D = Decimal


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signer(private_key):
    return RequestSigner(KEY_ID, private_key, clock=lambda: NOW)


# --- mutations ---------------------------------------------------------------------------------


def test_it_does_not_retry_post_and_reports_a_5xx_as_outcome_unknown(signer):
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", error(503))
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
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", failure)
    with pytest.raises(OutcomeUnknown, match="may have reached Kalshi") as info:
        make_client(exchange, signer=signer).create_order(order_request(client_order_id="kw-7"))
    assert info.value.client_order_id == "kw-7"
    assert len(exchange.requests) == 1


def test_a_post_that_cannot_connect_is_known_not_sent(signer):
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", httpx.ConnectError("refused"))
    with pytest.raises(ExchangeUnavailable):
        make_client(exchange, signer=signer).create_order(order_request())
    assert len(exchange.requests) == 1


def test_it_does_not_retry_delete(signer):
    exchange = FakeExchange().on("DELETE", "/portfolio/events/orders/ord-1", httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown):
        make_client(exchange, signer=signer).cancel_order("ord-1")
    assert len(exchange.requests) == 1


def test_a_duplicate_client_order_id_is_a_conflict(signer):
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", error(409, "order_already_exists", "duplicate"))
    with pytest.raises(Conflict, match="order_already_exists"):
        make_client(exchange, signer=signer).create_order(order_request())


def test_demo_mode_sends_v2_orders_to_the_demo_exchange(signer):
    exchange = FakeExchange().trading()
    ack = make_client(exchange, mode=TradingMode.DEMO, signer=signer).create_order(order_request())
    assert isinstance(ack, OrderAck)
    assert (ack.order_id, ack.client_order_id, ack.remaining_count, ack.fill_count) == ("ord-1", "kw-1", D(10), D(0))
    request = exchange.requests[0]
    assert str(request.url) == DEMO_URL + "/portfolio/events/orders"
    assert json.loads(request.content) == {
        "ticker": TICKER,
        "client_order_id": "kw-1",
        "side": "bid",
        "count": "10.00",
        "price": "0.3100",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
    }


def test_a_filled_create_reports_its_average_price_and_fee(signer):
    answer = {
        "order_id": "ord-9",
        "client_order_id": "kw-1",
        "fill_count": "10.00",
        "remaining_count": "0.00",
        "average_fill_price": "0.3100",
        "average_fee_paid": "0.0150",
        "ts_ms": 1772463600123,
    }
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", httpx.Response(201, json=answer))
    ack = make_client(exchange, signer=signer).create_order(order_request())
    assert isinstance(ack, OrderAck)
    assert (ack.fill_count, ack.average_fill_price, ack.average_fee_paid) == (D(10), D("0.31"), D("0.015"))


def test_cancel_amend_and_decrease_use_the_v2_paths(signer):
    exchange = FakeExchange().trading()
    client = make_client(exchange, signer=signer)
    cancelled = client.cancel_order("ord-1")
    amended = client.amend_order("ord-2", payloads.amend_request())
    decreased = client.decrease_order("ord-3", D(2))
    emptied = client.decrease_order_to("ord-4", D(0))
    assert client.cancel_all_orders() is None
    assert [(r.method, r.url.path.removeprefix("/trade-api/v2")) for r in exchange.requests] == [
        ("DELETE", "/portfolio/events/orders/ord-1"),
        ("POST", "/portfolio/events/orders/ord-2/amend"),
        ("POST", "/portfolio/events/orders/ord-3/decrease"),
        ("POST", "/portfolio/events/orders/ord-4/decrease"),
        ("DELETE", "/portfolio/events/orders"),
    ]
    assert isinstance(cancelled, OrderAck) and cancelled.reduced_by == D(10)
    assert isinstance(amended, OrderAck) and (amended.client_order_id, amended.remaining_count) == ("kw-1b", D(8))
    assert isinstance(decreased, OrderAck) and decreased.remaining_count == D(8)
    assert isinstance(emptied, OrderAck) and emptied.remaining_count == D(0)
    assert json.loads(exchange.requests[2].content) == {"reduce_by": "2.00"}
    assert json.loads(exchange.requests[3].content) == {"reduce_to": "0.00"}


def test_it_creates_in_batches_and_reports_each_order(signer):
    answer = {
        "orders": [
            {"order_id": "ord-1", "client_order_id": "kw-1", "fill_count": "0.00", "remaining_count": "10.00"},
            {"client_order_id": "kw-2", "error": {"code": "insufficient_balance", "message": "no money"}},
        ]
    }
    exchange = FakeExchange().on("POST", "/portfolio/events/orders/batched", httpx.Response(201, json=answer))
    requests = [order_request(), order_request(client_order_id="kw-2", side=BookSide.ASK)]
    placed, refused = make_client(exchange, signer=signer).batch_create_orders(requests)
    assert [o["client_order_id"] for o in json.loads(exchange.requests[0].content)["orders"]] == ["kw-1", "kw-2"]
    assert isinstance(placed, OrderAck) and placed.remaining_count == D(10)
    assert isinstance(refused, OrderRejected) and refused.error.code == "insufficient_balance"
    assert refused.client_order_id == "kw-2"
    with pytest.raises(ValueError, match="its own client_order_id"):
        endpoints.batch_create_orders([order_request(), order_request()])
    with pytest.raises(ValueError, match="1 to 20"):
        endpoints.batch_create_orders([])


def test_it_cancels_in_batches_and_reports_each_order(signer):
    answer = {
        "orders": [
            {"order_id": "", "order": {"order_id": "ord-1"}, "reduced_by": "8.00"},  # as production once sent
            {"order_id": "ord-2", "reduced_by": "0.00", "error": {"code": "not_found", "message": "no order"}},
        ]
    }
    exchange = FakeExchange().on("DELETE", "/portfolio/events/orders/batched", answer)
    items = make_client(exchange, signer=signer).batch_cancel_orders(["ord-1", "ord-2"])
    assert json.loads(exchange.requests[0].content) == {"orders": [{"order_id": "ord-1"}, {"order_id": "ord-2"}]}
    assert isinstance(items[0], OrderAck) and (items[0].order_id, items[0].reduced_by) == ("ord-1", D(8))
    assert isinstance(items[1], OrderRejected) and items[1].error.code == "not_found"
    with pytest.raises(ValueError, match="1 to 20"):
        endpoints.batch_cancel_orders([f"o{n}" for n in range(21)])


# --- a 2xx answer is never a failure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "order_id"),
    [
        (httpx.Response(201, json={"order_id": "ord-7", "fill_count": "ten", "ts_ms": 1}), "ord-7"),
        (httpx.Response(201, json={"order": {"order_id": "ord-8"}}), "ord-8"),  # a V1-shaped answer
        (httpx.Response(201, json=["unexpected"]), None),
        (httpx.Response(201, content=b"<html>accepted</html>"), None),
        (httpx.Response(201, content=b""), None),
    ],
)
def test_an_unreadable_2xx_answer_is_accepted_with_details_unknown(signer, answer, order_id, caplog):
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", answer)
    result = make_client(exchange, signer=signer).create_order(order_request(client_order_id="kw-5"))
    assert isinstance(result, AcceptedDetailsUnknown)
    assert result.accepted is True and result.details_known is False
    assert (result.order_id, result.client_order_id) == (order_id, "kw-5")
    assert result.raw is not None or answer.content == b""
    assert result.problem
    assert "reconcile" in caplog.text


def test_every_order_mutation_reports_an_unreadable_2xx_as_accepted(signer):
    exchange = FakeExchange()
    for method, path in [
        ("DELETE", "/portfolio/events/orders/ord-1"),
        ("POST", "/portfolio/events/orders/ord-1/amend"),
        ("POST", "/portfolio/events/orders/ord-1/decrease"),
    ]:
        exchange.on(method, path, httpx.Response(200, json={"order_id": "ord-1", "reduced_by": 3.5}))
    exchange.on("POST", "/portfolio/events/orders/batched", httpx.Response(201, json={"orders": "later"}))
    exchange.on("DELETE", "/portfolio/events/orders/batched", {"orders": [{"order_id": "ord-1", "reduced_by": 1.5}]})
    client = make_client(exchange, signer=signer)
    for result in (
        client.cancel_order("ord-1"),
        client.amend_order("ord-1", payloads.amend_request(count=D(5))),
        client.decrease_order("ord-1", D(1)),
    ):
        assert isinstance(result, AcceptedDetailsUnknown) and result.order_id == "ord-1"
    batch = client.batch_create_orders([order_request(), order_request(client_order_id="kw-2")])
    assert [(type(item), item.client_order_id) for item in batch] == [
        (AcceptedDetailsUnknown, "kw-1"),
        (AcceptedDetailsUnknown, "kw-2"),
    ]
    (cancelled,) = client.batch_cancel_orders(["ord-1"])
    assert isinstance(cancelled, AcceptedDetailsUnknown) and cancelled.order_id == "ord-1"


def test_an_order_a_batch_answer_leaves_out_is_unknown_not_failed(signer):
    answer = {"orders": [{"order_id": "ord-1", "fill_count": "0.00", "remaining_count": "10.00"}]}
    exchange = FakeExchange().on("POST", "/portfolio/events/orders/batched", httpx.Response(201, json=answer))
    requests = [order_request(), order_request(client_order_id="kw-2")]
    first, second = make_client(exchange, signer=signer).batch_create_orders(requests)
    assert isinstance(first, OrderAck) and first.client_order_id == "kw-1"  # filled in from what we sent
    assert isinstance(second, AcceptedDetailsUnknown) and second.client_order_id == "kw-2"


# --- V1 is gone -------------------------------------------------------------------------------------


def test_the_fake_exchange_answers_v1_order_mutations_with_410_like_kalshi(signer):
    with make_client(FakeExchange(), signer=signer) as client:
        for method in ("POST", "DELETE"):
            call = Command(method, "/portfolio/orders", lambda data: data)
            with pytest.raises(Gone, match="deprecated_v1_order_endpoint") as info:
                client.submit(call)
            assert info.value.status == 410


def test_no_client_method_targets_a_v1_order_endpoint(signer):
    """Every mutating method, run against an exchange that refuses V1 as Kalshi does, uses V2 paths only."""
    exchange = FakeExchange().trading()
    exchange.on("POST", "/portfolio/order_groups/create", httpx.Response(201, json={"order_group_id": "grp-1"}))
    for action in ("reset", "trigger", "limit"):
        exchange.on("PUT", f"/portfolio/order_groups/X-1/{action}", {})
    exchange.on("DELETE", "/portfolio/order_groups/X-1", {})
    client = make_client(exchange, signer=signer)
    mutating = [name for name, fn in inspect.getmembers(type(client), inspect.isfunction) if is_mutating(fn)]
    for name in mutating:
        if name != "submit":
            call_with_samples(getattr(client, name))
    sent = [(r.method, r.url.path) for r in exchange.requests]
    assert len(sent) == len(mutating) - 1
    assert not [s for s in sent if s[1].startswith("/trade-api/v2/portfolio/orders")], sent
    commands = [call for call in (call_with_samples(getattr(endpoints, n)) for n in endpoints.__all__)]
    for command in (c for c in commands if isinstance(c, Command)):
        assert not command.template.startswith("/portfolio/orders"), f"{command.method} {command.template} is V1"


def test_order_group_commands_accept_empty_answers(signer):
    exchange = (
        FakeExchange()
        .on("POST", "/portfolio/order_groups/create", httpx.Response(201, json={"order_group_id": "grp-1"}))
        .on("PUT", "/portfolio/order_groups/grp-1/reset", httpx.Response(200, content=b""))
        .on("PUT", "/portfolio/order_groups/grp-1/trigger", {})
        .on("PUT", "/portfolio/order_groups/grp-1/limit", {})
        .on("DELETE", "/portfolio/order_groups/grp-1", {})
    )
    client = make_client(exchange, signer=signer)
    assert client.create_order_group(Decimal(50)) == "grp-1"
    assert json.loads(exchange.requests[0].content) == {"contracts_limit_fp": "50.00"}
    assert client.reset_order_group("grp-1") is None
    assert client.trigger_order_group("grp-1") is None
    assert client.set_order_group_limit("grp-1", Decimal("12.5")) is None
    assert json.loads(exchange.requests[3].content) == {"contracts_limit_fp": "12.50"}
    assert client.delete_order_group("grp-1") is None
    with pytest.raises(ValueError, match=r"steps of 0\.01"):
        endpoints.set_order_group_limit("grp-1", Decimal("0.001"))


def test_it_reads_order_groups_with_their_limits(signer):
    exchange = (
        FakeExchange()
        .on("GET", "/portfolio/order_groups", {"order_groups": [{"id": "grp-1", "is_auto_cancel_enabled": True}]})
        .on(
            "GET",
            "/portfolio/order_groups/grp-1",
            {"is_auto_cancel_enabled": False, "contracts_limit_fp": "25.00", "orders": ["ord-1"]},
        )
    )
    client = make_client(exchange, signer=signer)
    (listed,) = client.list_order_groups()
    assert (listed.id, listed.contracts_limit) == ("grp-1", None)
    group = client.get_order_group("grp-1")
    assert (group.id, group.contracts_limit, group.order_ids) == ("grp-1", D(25), ("ord-1",))


def test_it_reads_queue_positions(signer):
    positions = {"queue_positions": [{"order_id": "ord-1", "market_ticker": TICKER, "queue_position_fp": "130.00"}]}
    exchange = (
        FakeExchange()
        .on("GET", "/portfolio/orders/queue_positions", positions)
        .on("GET", "/portfolio/orders/ord-1/queue_position", {"queue_position_fp": "42.50"})
    )
    client = make_client(exchange, signer=signer)
    (position,) = client.get_queue_positions(market_tickers=[TICKER, "B"])
    assert (position.order_id, position.ticker, position.ahead) == ("ord-1", TICKER, D(130))
    assert exchange.params(0) == {"market_tickers": [f"{TICKER},B"]}
    assert client.get_queue_position("ord-1") == D("42.5")


def test_it_pages_through_historical_fills_and_orders(signer):
    fills = [payloads.fill(fill_id=f"f{n}", fee_cost=DROP if n == 0 else "0.0100") for n in range(3)]
    exchange = (
        FakeExchange()
        .on("GET", "/historical/fills", paginated("fills", fills, per_page=2))
        .on("GET", "/historical/orders", {"orders": [payloads.order(status="executed")], "cursor": ""})
    )
    client = make_client(exchange, signer=signer)
    got = list(client.iter_historical_fills(ticker=TICKER))
    assert [f.fill_id for f in got] == ["f0", "f1", "f2"]
    assert [f.fee_cost for f in got] == [None, D("0.01"), D("0.01")]  # January 2026 fills had no fee_cost
    (order,) = client.iter_historical_orders(ticker=TICKER)
    assert order.status is OrderStatus.EXECUTED
    assert all(KEY_HEADER in r.headers for r in exchange.requests)


def test_it_reads_the_exchange_schedule_and_the_user_data_timestamp():
    day = [{"open_time": "00:00", "close_time": "03:00"}, {"open_time": "08:00", "close_time": "23:59"}]
    week = {name: day for name in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    schedule = {
        "schedule": {
            "standard_hours": [
                {"start_time": "2026-01-01T00:00:00Z", "end_time": "2027-01-01T00:00:00Z", **week, "saturday": []}
            ],
            "maintenance_windows": [
                {"start_datetime": "2026-03-05T08:00:00Z", "end_datetime": "2026-03-05T10:00:00Z"},
            ],
        }
    }
    exchange = (
        FakeExchange()
        .on("GET", "/exchange/schedule", schedule)
        .on("GET", "/exchange/user_data_timestamp", {"as_of_time": "2026-03-02T14:59:58Z"})
    )
    client = make_client(exchange)
    parsed = client.get_exchange_schedule()
    (hours,) = parsed.standard_hours
    assert hours.sessions["monday"] == (("00:00", "03:00"), ("08:00", "23:59"))
    assert hours.sessions["sunday"] == hours.sessions["saturday"] == ()
    assert parsed.maintenance_windows == ((datetime(2026, 3, 5, 8, tzinfo=UTC), datetime(2026, 3, 5, 10, tzinfo=UTC)),)
    assert client.get_user_data_timestamp() == datetime(2026, 3, 2, 14, 59, 58, tzinfo=UTC)


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
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", httpx.ReadTimeout("timed out"))
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


@pytest.mark.anyio
async def test_the_async_client_also_reports_an_unreadable_2xx_as_accepted(signer):
    exchange = FakeExchange().on("POST", "/portfolio/events/orders", httpx.Response(201, content=b"ok"))
    async with make_async_client(exchange, signer=signer) as client:
        result = await client.submit(endpoints.create_order(order_request(client_order_id="kw-4")))
    assert isinstance(result, AcceptedDetailsUnknown)
    assert (result.client_order_id, result.raw) == ("kw-4", "ok")


def test_one_odd_order_or_fill_does_not_fail_a_page(signer):
    """An unknown status, "" in money fields, a fill without fee_cost: each page still parses whole."""
    orders = [payloads.order(), payloads.order(order_id="ord-2", status="queued", taker_fill_cost_dollars="")]
    fills = [payloads.fill(), payloads.fill(fill_id="fill-2", fee_cost=DROP)]
    exchange = (
        FakeExchange()
        .on("GET", "/portfolio/orders", {"orders": orders, "cursor": ""})
        .on("GET", "/portfolio/fills", {"fills": fills, "cursor": ""})
    )
    client = make_client(exchange, signer=signer)
    assert [o.status for o in client.iter_orders()] == [OrderStatus.RESTING, "queued"]
    assert [f.fee_cost for f in client.iter_fills()] == [D("0.02"), None]
