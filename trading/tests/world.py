"""A small trading world in the database: one city's event with three brackets, books, prints and a forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from markets.models import Market, OrderBookSnapshot, Trade
from markets.tests.factories import SeriesFactory
from trading.drill import world as drill
from weather.tests.factories import CityFactory

D = Decimal
NOW = datetime(2025, 2, 28, 15, tzinfo=UTC)  # 10:00 in New York on the climate day
DAY = date(2025, 2, 28)
CLOSE = datetime(2025, 3, 1, 4, 59, tzinfo=UTC)


class World(drill.World):
    """The fault tests' small world: three brackets."""

    @property
    def low(self) -> Market:  # 39 or below
        return self.markets[0]

    @property
    def mid(self) -> Market:  # 40 to 41
        return self.markets[1]

    @property
    def high(self) -> Market:  # 42 or above
        return self.markets[2]


def build_world(
    *,
    series: str = "KXHIGHTEST",
    probabilities: tuple[str, str, str] = ("0.10", "0.75", "0.15"),
    city_name: str = "Testville",
) -> World:
    city = CityFactory.create(name=city_name, high_series_ticker=series)
    listed = drill.list_event(
        SeriesFactory.create(ticker=series, city=city),
        DAY,
        drill.brackets(40, between=1),
        open_time=NOW - timedelta(days=1),
        close_time=CLOSE,
    )
    world = World(listed.event, listed.markets)
    predict(world, probabilities, at=NOW - timedelta(minutes=5))
    return world


def predict(world: World, probabilities: tuple[str, str, str], *, at: datetime) -> None:
    drill.predict(world, probabilities, at=at, model_name="test")


def book(market: Market, *, yes: list[tuple[str, str]], no: list[tuple[str, str]], at: datetime = NOW) -> None:
    """A stored book: YES bids and NO bids as (price, size) strings."""
    OrderBookSnapshot.objects.create(
        market=market,
        captured_at=at,
        source="ws",
        yes_bids=[[p, s] for p, s in yes],
        no_bids=[[p, s] for p, s in no],
    )


def trade(market: Market, *, yes_price: str, count: str, taker: str, at: datetime, trade_id: str) -> Trade:
    price = D(yes_price)
    return Trade.objects.create(
        market=market,
        trade_id=trade_id,
        count=D(count),
        yes_price=price,
        no_price=1 - price,
        taker_side=taker,
        created_time=at,
    )


def quiet_books(world: World, at: datetime = NOW) -> None:
    """Two-sided books on every bracket, the middle one cheap against the forecast."""
    book(world.low, yes=[("0.08", "50")], no=[("0.88", "50")], at=at)  # 0.08 bid / 0.12 ask
    book(world.mid, yes=[("0.38", "40")], no=[("0.58", "30"), ("0.55", "100")], at=at)  # 0.38 / 0.42 ask (0.45 next)
    book(world.high, yes=[("0.40", "50")], no=[("0.56", "50")], at=at)  # 0.40 / 0.44
