from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets.models import Market, OrderBookSnapshot
from markets.tests.factories import EventFactory, MarketFactory

pytestmark = pytest.mark.django_db


def _book(market: Market, hour: int, yes: str, no: str) -> None:
    OrderBookSnapshot.objects.create(
        market=market,
        captured_at=datetime(2025, 2, 28, hour, tzinfo=UTC),
        source="rest",
        yes_bids=[[yes, "10.00"]],
        no_bids=[[no, "5.00"]],
    )


def test_a_market_shows_its_latest_books_best_bid_and_ask(staff_client):
    market = MarketFactory.create()
    _book(market, 10, "0.30", "0.60")
    _book(market, 12, "0.42", "0.55")
    shown = staff_client.get("/api/markets/").json()["results"][0]
    assert shown["ticker"] == market.ticker
    assert shown["book"] == {"captured_at": "2025-02-28T12:00:00Z", "best_yes_bid": "0.42", "best_yes_ask": "0.45"}


def test_a_book_with_one_side_empty_shows_no_price_on_that_side(staff_client):
    market = MarketFactory.create()
    OrderBookSnapshot.objects.create(
        market=market, captured_at=datetime(2025, 2, 28, 9, tzinfo=UTC), source="rest", yes_bids=[["0.0550", "3.00"]]
    )
    shown = staff_client.get("/api/markets/").json()["results"][0]
    assert shown["book"] == {"captured_at": "2025-02-28T09:00:00Z", "best_yes_bid": "0.055", "best_yes_ask": None}


def test_markets_filter_by_event_status_and_city(staff_client):
    first, other = EventFactory.create(), EventFactory.create()
    MarketFactory.create(event=first)
    MarketFactory.create(event=other, status=Market.Status.CLOSED)
    by_event = staff_client.get("/api/markets/", {"event": first.event_ticker}).json()
    assert [m["event"] for m in by_event["results"]] == [first.event_ticker]
    assert staff_client.get("/api/markets/", {"status": "closed"}).json()["count"] == 1
    assert staff_client.get("/api/markets/", {"city": other.series.city_id}).json()["count"] == 1


def test_markets_come_in_pages(staff_client):
    event = EventFactory.create()
    MarketFactory.create_batch(5, event=event)
    page = staff_client.get("/api/markets/", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"] and page["previous"]


def test_the_market_list_costs_the_same_queries_for_3_or_30_markets(staff_client):
    def queries(n: int) -> int:
        for market in MarketFactory.create_batch(n, event=EventFactory.create()):
            _book(market, 12, "0.40", "0.50")
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get("/api/markets/", {"page_size": 500}).status_code == 200
        return len(ctx.captured_queries)

    assert queries(3) == queries(27)


def test_markets_list_the_newest_event_first_by_strike_with_each_ones_own_book(staff_client):
    older, newer = EventFactory.create(), EventFactory.create()
    low = MarketFactory.create(event=newer, floor_strike=40)
    high = MarketFactory.create(event=newer, floor_strike=50)
    old = MarketFactory.create(event=older, floor_strike=30)
    _book(high, 12, "0.20", "0.70")
    _book(old, 11, "0.10", "0.80")
    shown = staff_client.get("/api/markets/").json()["results"]
    assert [m["ticker"] for m in shown] == [low.ticker, high.ticker, old.ticker]
    assert [m["book"] and m["book"]["best_yes_bid"] for m in shown] == [None, "0.20", "0.10"]
    one = staff_client.get(f"/api/markets/{high.pk}/").json()
    assert one["book"]["best_yes_ask"] == "0.30"
