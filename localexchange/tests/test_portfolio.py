"""The account side of the local exchange: fills, positions, settlements, order groups, the historical cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localexchange.exchange import Exchange
from localexchange.matching import NewOrder, OrderRefused
from localexchange.rest import RestApp
from localexchange.tests.helpers import signed_call, spec_checker
from localexchange.ws import Faults, LocalFeed
from markets.schemas.enums import BookSide
from trading.fees import FeeSchedule

M = "KXHIGHNY-25FEB20-B44.5"
M2 = "KXHIGHNY-25FEB20-B46.5"
NOW = 1740063600.0  # 2025-02-20 15:00 UTC
T0 = datetime.fromtimestamp(NOW, tz=UTC)
D = Decimal
BID, ASK = BookSide.BID, BookSide.ASK


@pytest.fixture(scope="module")
def keys():
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("alice", "bob")}


def venue() -> Exchange:
    exchange = Exchange()
    for ticker in (M, M2):
        exchange.open_market(ticker, FeeSchedule("quadratic", D(1)))
    for name in ("alice", "bob"):
        exchange.deposit(name, D(100))
    return exchange


@pytest.fixture
def app(keys):
    feed = LocalFeed(venue(), {name: key.public_key() for name, key in keys.items()}, clock=lambda: NOW)
    return RestApp(feed, clock=lambda: NOW)


def call(app, keys, member, method, path, body=None, **params):
    return signed_call(app, keys, member, method, path, body, params=params, now=NOW)


def order(side, price, count, ticker=M, **extra):
    return {"ticker": ticker, "side": side, "price": price, "count": count, "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross", **extra}  # fmt: skip


def place(exchange, member, side, price, count, *, at=T0, ticker=M, **extra):
    return exchange.place(NewOrder(member, ticker, side, D(price), D(count), **extra), at=at)


# The exchange itself ----------------------------------------------------------------------------


def test_a_duplicate_client_order_id_is_refused_and_places_nothing():
    exchange = venue()
    place(exchange, "bob", BID, "0.30", 5, client_order_id="bot-1")
    with pytest.raises(OrderRefused) as refused:
        place(exchange, "bob", BID, "0.31", 5, client_order_id="bot-1")
    assert refused.value.code == "order_already_exists"
    assert exchange.markets[M].book.bids() == [(D("0.30"), D(5))] and len(exchange.orders) == 1
    place(exchange, "alice", ASK, "0.90", 1, client_order_id="bot-1")  # another member's ids are its own


def test_an_order_group_trips_at_its_limit_within_15_seconds_and_takes_orders_again_after_reset():
    exchange = venue()
    group = exchange.create_order_group("bob", D(5))
    place(exchange, "bob", BID, "0.40", 3, order_group_id=group)
    place(exchange, "bob", BID, "0.30", 10, ticker=M2, order_group_id=group)
    place(exchange, "alice", ASK, "0.40", 3)  # 3 matched: under the limit
    assert not exchange.groups[group].triggered
    place(exchange, "alice", ASK, "0.30", 2, ticker=M2, at=T0 + timedelta(seconds=16))  # the first 3 aged out
    assert not exchange.groups[group].triggered
    placed = place(exchange, "alice", ASK, "0.30", 3, ticker=M2, at=T0 + timedelta(seconds=20))  # 2 + 3 = 5
    assert exchange.groups[group].triggered
    assert [(ticker, change.delta) for ticker, change in placed.group_cancels] == [(M2, D(-5))]
    assert exchange.markets[M2].book.bids() == [] and exchange.member("bob").reserved == {}
    with pytest.raises(OrderRefused) as refused:
        place(exchange, "bob", BID, "0.20", 1, order_group_id=group)
    assert refused.value.code == "order_group_triggered"
    exchange.reset_order_group("bob", group)
    place(exchange, "bob", BID, "0.20", 1, order_group_id=group)
    assert exchange.groups[group].order_ids == ["ord-1", "ord-2", "ord-6"]


def test_a_taker_that_trips_its_own_group_does_not_rest():
    exchange = venue()
    group = exchange.create_order_group("bob", D(2))
    place(exchange, "alice", ASK, "0.40", 2)
    placed = place(exchange, "bob", BID, "0.40", 6, order_group_id=group)
    assert (placed.filled, placed.resting, placed.canceled) == (D(2), D(0), D(4))
    assert exchange.orders[placed.order_id].status == "canceled" and exchange.markets[M].book.bids() == []


def test_settling_cancels_what_rests_and_records_what_each_holder_was_paid():
    exchange = venue()
    place(exchange, "alice", ASK, "0.30", 10)
    place(exchange, "bob", BID, "0.30", 4)  # bob: 4 YES at 0.30; alice: 4 NO at 0.70
    later = T0 + timedelta(hours=1)
    paid = exchange.settle(M, "yes", at=later)
    assert paid == {"bob": D(4), "alice": D(0)}
    assert exchange.orders["ord-1"].status == "canceled" and exchange.member("alice").reserved == {}
    rows = {row.member: row for row in exchange.settlements}
    assert (rows["bob"].yes_count, rows["bob"].yes_cost, rows["bob"].revenue) == (D(4), D("1.20"), D(4))
    assert (rows["alice"].no_count, rows["alice"].no_cost, rows["alice"].revenue) == (D(4), D("2.80"), D(0))
    assert rows["bob"].at == later and rows["bob"].event_ticker == "KXHIGHNY-25FEB20"


def test_the_historical_cutoff_moves_fills_and_finished_orders_but_never_resting_ones():
    exchange = venue()
    place(exchange, "alice", ASK, "0.30", 10)
    place(exchange, "bob", BID, "0.30", 4)
    assert len(exchange.fills_of("bob", historical=False)) == 1 and exchange.fills_of("bob", historical=True) == []
    exchange.set_historical_cutoff(T0 + timedelta(minutes=1))
    assert exchange.fills_of("bob", historical=False) == [] and len(exchange.fills_of("bob", historical=True)) == 1
    assert [o.order_id for o in exchange.orders_of("alice", historical=False)] == ["ord-1"]  # still resting
    assert [o.order_id for o in exchange.orders_of("bob", historical=True)] == ["ord-2"]  # executed before it
    exchange.set_historical_cutoff(None)
    assert exchange.orders_of("bob", historical=True) == []


# Over REST, in the spec's shapes ----------------------------------------------------------------


@pytest.mark.kalshi_spec
def test_every_account_answer_is_in_the_shape_of_kalshis_openapi(app, keys, kalshi_spec_dir):
    check = spec_checker(kalshi_spec_dir)
    call(app, keys, "alice", "POST", "/portfolio/events/orders", order("ask", "0.3000", "10.00"))
    call(app, keys, "bob", "POST", "/portfolio/events/orders", order("bid", "0.3500", "4.00", client_order_id="c-1"))
    status, duplicate = call(app, keys, "bob", "POST", "/portfolio/events/orders",
                             order("bid", "0.3500", "4.00", client_order_id="c-1"))  # fmt: skip
    assert (status, duplicate["code"]) == (409, "order_already_exists")
    check(duplicate, "ErrorResponse")

    status, group = call(app, keys, "bob", "POST", "/portfolio/order_groups/create", {"contracts_limit_fp": "50.00"})
    assert status == 201
    check(group, "CreateOrderGroupResponse")
    group_id = group["order_group_id"]
    call(app, keys, "bob", "POST", "/portfolio/events/orders", order("bid", "0.2000", "3.00", order_group_id=group_id))
    for path, schema in [
        ("/portfolio/orders", "GetOrdersResponse"),
        ("/portfolio/fills", "GetFillsResponse"),
        ("/portfolio/positions", "GetPositionsResponse"),
        ("/portfolio/order_groups", "GetOrderGroupsResponse"),
        (f"/portfolio/order_groups/{group_id}", "GetOrderGroupResponse"),
    ]:
        status, answer = call(app, keys, "bob", "GET", path)
        assert status == 200, answer
        check(answer, schema)
    _, orders = call(app, keys, "bob", "GET", "/portfolio/orders")
    assert [o["status"] for o in orders["orders"]] == ["resting", "executed"]
    assert orders["orders"][0]["order_group_id"] == group_id
    _, fills = call(app, keys, "bob", "GET", "/portfolio/fills")
    assert [(f["count_fp"], f["yes_price_dollars"], f["is_taker"]) for f in fills["fills"]] == [
        ("4.00", "0.3000", True)
    ]
    for verb, path, body in [
        ("PUT", f"/portfolio/order_groups/{group_id}/limit", {"contracts_limit_fp": "60.00"}),
        ("PUT", f"/portfolio/order_groups/{group_id}/trigger", None),
        ("PUT", f"/portfolio/order_groups/{group_id}/reset", None),
        ("DELETE", f"/portfolio/order_groups/{group_id}", None),
    ]:
        status, answer = call(app, keys, "bob", verb, path, body)
        assert status == 200
        check(answer, "EmptyResponse")
    status, missing = call(app, keys, "bob", "GET", f"/portfolio/order_groups/{group_id}")
    assert (status, missing["code"]) == (404, "order_group_not_found")

    status, canceled = call(app, keys, "alice", "DELETE", "/portfolio/events/orders/batched",
                            {"orders": [{"order_id": "ord-1"}, {"order_id": "ord-404"}]})  # fmt: skip
    assert status == 200 and [o["reduced_by"] for o in canceled["orders"]] == ["6.00", "0.00"]
    check(canceled, "BatchCancelOrdersV2Response")
    app.feed.exchange.settle(M, "yes", at=datetime.fromtimestamp(NOW, tz=UTC))
    _, settlements = call(app, keys, "bob", "GET", "/portfolio/settlements")
    check(settlements, "GetSettlementsResponse")
    assert [(s["yes_count_fp"], s["revenue"], s["value"]) for s in settlements["settlements"]] == [("4.00", 400, 100)]

    stranger = {"mallory": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    status, cutoff = call(app, stranger, "mallory", "GET", "/historical/cutoff")  # public: no account needed
    assert status == 200 and cutoff["trades_created_ts"] == "1970-01-01T00:00:00Z"
    check(cutoff, "GetHistoricalCutoffResponse")
    status, open_now = call(app, stranger, "mallory", "GET", "/exchange/status")
    assert (status, open_now["trading_active"]) == (200, True)
    check(open_now, "ExchangeStatus")
    app.feed.exchange.trading_active = False
    _, paused = call(app, stranger, "mallory", "GET", "/exchange/status")
    status, refused = call(app, keys, "bob", "POST", "/portfolio/events/orders", order("bid", "0.10", "1.00"))
    assert paused["trading_active"] is False and (status, refused["code"]) == (400, "trading_is_paused")
    app.feed.exchange.trading_active = True
    app.feed.exchange.set_historical_cutoff(datetime.fromtimestamp(NOW + 1, tz=UTC))
    _, historical_fills = call(app, keys, "bob", "GET", "/historical/fills")
    check(historical_fills, "GetFillsResponse")
    _, historical_orders = call(app, keys, "bob", "GET", "/historical/orders")
    check(historical_orders, "GetOrdersResponse")
    assert len(historical_fills["fills"]) == 1 and len(historical_orders["orders"]) == 2
    _, live = call(app, keys, "bob", "GET", "/portfolio/fills")
    assert live == {"fills": [], "cursor": ""}


def test_lists_page_with_a_cursor_and_filter_as_asked(app, keys):
    call(app, keys, "alice", "POST", "/portfolio/events/orders", order("ask", "0.3000", "10.00"))
    for _ in range(3):
        call(app, keys, "bob", "POST", "/portfolio/events/orders", order("bid", "0.3000", "1.00"))
    _, first = call(app, keys, "bob", "GET", "/portfolio/fills", limit=2)
    assert [f["trade_id"] for f in first["fills"]] == ["trd-3", "trd-2"] and first["cursor"]
    _, second = call(app, keys, "bob", "GET", "/portfolio/fills", limit=2, cursor=first["cursor"])
    assert [f["trade_id"] for f in second["fills"]] == ["trd-1"] and second["cursor"] == ""
    _, resting = call(app, keys, "alice", "GET", "/portfolio/orders", status="resting", event_ticker="KXHIGHNY-25FEB20")
    assert [(o["order_id"], o["remaining_count_fp"]) for o in resting["orders"]] == [("ord-1", "7.00")]
    _, none = call(app, keys, "alice", "GET", "/portfolio/orders", ticker=M2)
    assert none["orders"] == []
    _, later = call(app, keys, "bob", "GET", "/portfolio/fills", min_ts=int(NOW) + 1)
    assert later["fills"] == []
    status, bad = call(app, keys, "bob", "GET", "/portfolio/fills", limit=5000)
    assert (status, bad["code"]) == (400, "invalid_parameters")


def test_faults_reach_the_account_endpoints_too(keys):
    feed = LocalFeed(venue(), {name: key.public_key() for name, key in keys.items()}, faults=Faults(rate_limit_rate=1))
    app = RestApp(feed, clock=lambda: NOW)
    for path in ("/portfolio/fills", "/portfolio/positions", "/historical/orders", "/portfolio/order_groups"):
        status, error = call(app, keys, "bob", "GET", path)
        assert (status, error["code"]) == (429, "too_many_requests")
