from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from markets.models import Event, Market, Series, Trade
from weather.tests.factories import CityFactory


class SeriesFactory(DjangoModelFactory[Series]):
    class Meta:
        model = Series
        django_get_or_create = ["ticker"]

    ticker = factory.Sequence(lambda n: f"KXHIGHT{n}")
    title = "Highest temperature"
    category = "Climate and Weather"
    city = factory.SubFactory(CityFactory)
    measure = Series.Measure.HIGH


class EventFactory(DjangoModelFactory[Event]):
    class Meta:
        model = Event

    series = factory.SubFactory(SeriesFactory)
    event_ticker = factory.LazyAttributeSequence(lambda o, n: f"{o.series.ticker}-25FEB{(n % 28) + 1:02d}{n}")
    target_date = date(2025, 2, 28)


class MarketFactory(DjangoModelFactory[Market]):
    class Meta:
        model = Market

    event = factory.SubFactory(EventFactory)
    ticker = factory.LazyAttributeSequence(lambda o, n: f"{o.event.event_ticker}-B{40 + 2 * n}.5")
    strike_type = Market.StrikeType.BETWEEN
    floor_strike = Decimal(44)
    cap_strike = Decimal(45)
    status = Market.Status.ACTIVE
    close_time = datetime(2025, 3, 1, 4, 59, tzinfo=UTC)


class TradeFactory(DjangoModelFactory[Trade]):
    class Meta:
        model = Trade

    trade_id = factory.Faker("uuid4")
    market = factory.SubFactory(MarketFactory)
    count = Decimal(5)
    yes_price = Decimal("0.42")
    no_price = Decimal("0.58")
    taker_side = "yes"
    created_time = datetime(2025, 2, 28, 15, tzinfo=UTC)
