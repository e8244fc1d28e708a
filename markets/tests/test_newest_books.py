"""The newest stored book of each market as known at a moment (the markets page and the paper broker read it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from markets.models import OrderBookSnapshot
from markets.tests.factories import MarketFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 2, 28, 15, tzinfo=UTC)


def book(market, minutes: int) -> OrderBookSnapshot:
    at = NOW + timedelta(minutes=minutes)
    return OrderBookSnapshot.objects.create(market=market, captured_at=at, source="rest", yes_bids=[["0.40", "5"]])


def test_each_market_gets_its_newest_book_up_to_now_and_none_from_after():
    first, second, bookless = MarketFactory.create_batch(3)
    book(first, -30), book(first, -5)
    newest_first = book(first, 0)
    book(first, 1)  # after now: not yet known
    newest_second = book(second, -60)
    book(second, 5)
    found = OrderBookSnapshot.objects.newest_per_market([first.pk, second.pk, bookless.pk], NOW)
    assert {b.market_id: b.pk for b in found} == {first.pk: newest_first.pk, second.pk: newest_second.pk}


def test_of_two_books_at_the_same_moment_the_later_stored_wins():
    market = MarketFactory.create()
    book(market, -1)
    later = book(market, -1)
    assert [b.pk for b in OrderBookSnapshot.objects.newest_per_market([market.pk], NOW)] == [later.pk]
