from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from markets.tests.factories import MarketFactory
from trading.models import Order


class OrderFactory(DjangoModelFactory[Order]):
    class Meta:
        model = Order

    client_order_id = factory.Sequence(lambda n: f"kw-test-{n:06d}")
    mode = "DRY"
    market = factory.SubFactory(MarketFactory)
    ticker = factory.LazyAttribute(lambda o: o.market.ticker)
    event_ticker = factory.LazyAttribute(lambda o: o.market.event.event_ticker)
    book_side = "bid"
    price = Decimal("0.40")
    count = Decimal(3)
    remaining_count = Decimal(3)
    time_in_force = "good_till_canceled"
    created_at = factory.LazyFunction(lambda: datetime(2025, 2, 20, 15, tzinfo=UTC))
    updated_at = factory.LazyAttribute(lambda o: o.created_at)
