from __future__ import annotations

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
    side = "yes"
    action = "buy"
    count = Decimal(3)
    limit_price = Decimal("0.40")
