"""The local exchange's REST side, in Kalshi's shapes: V2 orders, reads, errors, the retired V1 path."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localexchange.exchange import Exchange
from localexchange.rest import RestApp
from localexchange.tests.helpers import signed_call, spec_checker
from localexchange.ws import LocalFeed
from markets.schemas.books import parse_orderbook
from trading.fees import FeeSchedule

M = "KXHIGHNY-25FEB20-B44.5"
NOW = 1740063600.0  # 2025-02-20 15:00 UTC


@pytest.fixture(scope="module")
def keys():
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("alice", "bob")}


@pytest.fixture
def app(keys):
    exchange = Exchange()
    exchange.open_market(M, FeeSchedule("quadratic", Decimal(1)))
    for name in keys:
        exchange.deposit(name, Decimal(100))
    feed = LocalFeed(exchange, {name: key.public_key() for name, key in keys.items()}, clock=lambda: NOW)
    return RestApp(feed, clock=lambda: NOW)


def call(app, keys, member, method, path, body=None):
    """One signed request through the ASGI app, as the Kalshi client would send it."""
    return signed_call(app, keys, member, method, path, body, now=NOW)


def order(side, price, count, **extra):
    return {"ticker": M, "side": side, "price": price, "count": count, "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross", **extra}  # fmt: skip


def test_v2_orders_rest_fill_and_report_in_kalshis_shapes(app, keys):
    status, rested = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("ask", "0.3000", "10.00"))
    assert status == 201 and (rested["fill_count"], rested["remaining_count"]) == ("0.00", "10.00")
    status, taken = call(app, keys, "bob", "POST", "/portfolio/events/orders",
                         order("bid", "0.3500", "4.00", client_order_id="c-1"))  # fmt: skip
    assert status == 201
    assert (taken["fill_count"], taken["remaining_count"], taken["client_order_id"]) == ("4.00", "0.00", "c-1")
    assert taken["average_fill_price"] == "0.3000"  # the maker's price
    assert taken["average_fee_paid"] == "0.0150"  # 0.07 x 4 x 0.3 x 0.7 = 0.0588 -> 0.06 for the order
    status, balance = call(app, keys, "bob", "GET", "/portfolio/balance")
    assert status == 200 and balance["balance_dollars"] == "98.7400" and balance["balance"] == 9874
    status, book = call(app, keys, "bob", "GET", f"/markets/{M}/orderbook")
    parsed = parse_orderbook(book, ticker=M)
    assert parsed.no_bids == ((Decimal("0.7000"), Decimal("6.00")),) and parsed.best_yes_ask == Decimal("0.3000")


def test_cancel_and_decrease_answer_what_they_reduced(app, keys):
    _, rested = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("bid", "0.2000", "10.00"))
    order_id = rested["order_id"]
    status, decreased = call(app, keys, "alice", "POST", f"/portfolio/events/orders/{order_id}/decrease",
                             {"reduce_to": "6.00"})  # fmt: skip
    assert status == 200 and decreased["remaining_count"] == "6.00"
    status, canceled = call(app, keys, "alice", "DELETE", f"/portfolio/events/orders/{order_id}")
    assert status == 200 and canceled["reduced_by"] == "6.00"
    status, error = call(app, keys, "bob", "DELETE", f"/portfolio/events/orders/{order_id}")
    assert status == 404 and error["code"] == "order_not_found"


def test_the_retired_v1_path_answers_410_and_bad_requests_say_what_is_wrong(app, keys):
    status, gone = call(app, keys, "alice", "POST", "/portfolio/orders", {"ticker": M})
    assert status == 410 and gone["code"] == "deprecated_v1_order_endpoint"
    status, bad = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("buy", "0.3000", "1.00"))
    assert status == 400 and "side must be one of bid, ask, got 'buy'" in bad["message"]
    status, bad = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("bid", 0.3, "1.00"))
    assert status == 400 and "price must be a fixed-point string" in bad["message"]
    status, poor = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("bid", "0.9000", "500.00"))
    assert status == 400 and poor["code"] == "insufficient_balance"


def test_a_request_signed_by_an_unknown_key_is_refused(app, keys):
    stranger = {"mallory": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    status, error = call(app, stranger, "mallory", "GET", "/portfolio/balance")
    assert status == 401 and error["code"] == "authentication_error"


@pytest.mark.kalshi_spec
def test_every_answer_is_in_the_shape_of_kalshis_openapi(app, keys, kalshi_spec_dir):
    check = spec_checker(kalshi_spec_dir)

    _, rested = call(app, keys, "alice", "POST", "/portfolio/events/orders", order("ask", "0.3000", "10.00"))
    check(rested, "CreateOrderV2Response")
    _, taken = call(app, keys, "bob", "POST", "/portfolio/events/orders", order("bid", "0.3000", "2.00"))
    check(taken, "CreateOrderV2Response")
    _, read = call(app, keys, "alice", "GET", f"/portfolio/orders/{rested['order_id']}")
    check(read, "GetOrderResponse")
    assert (read["order"]["fill_count_fp"], read["order"]["status"]) == ("2.00", "resting")
    _, decreased = call(app, keys, "alice", "POST", f"/portfolio/events/orders/{rested['order_id']}/decrease",
                        {"reduce_by": "1.00"})  # fmt: skip
    check(decreased, "DecreaseOrderV2Response")
    _, canceled = call(app, keys, "alice", "DELETE", f"/portfolio/events/orders/{rested['order_id']}")
    check(canceled, "CancelOrderV2Response")
    _, balance = call(app, keys, "alice", "GET", "/portfolio/balance")
    check(balance, "GetBalanceResponse")
    _, book = call(app, keys, "alice", "GET", f"/markets/{M}/orderbook")
    check(book, "GetMarketOrderbookResponse")
    _, error = call(app, keys, "alice", "GET", "/portfolio/orders/ord-404")
    check(error, "ErrorResponse")
