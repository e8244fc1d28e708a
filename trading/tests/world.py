"""A small trading world in the database: one city's event with three brackets, books, prints and a forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from markets.models import Event, Market, OrderBookSnapshot, Trade
from markets.tests.factories import EventFactory, MarketFactory, SeriesFactory
from prediction.models import BracketProbability, ModelVersion, Prediction
from weather.tests.factories import CityFactory

D = Decimal
NOW = datetime(2025, 2, 28, 15, tzinfo=UTC)  # 10:00 in New York on the climate day
DAY = date(2025, 2, 28)
CLOSE = datetime(2025, 3, 1, 4, 59, tzinfo=UTC)


@dataclass
class World:
    event: Event
    low: Market  # 39 or below
    mid: Market  # 40 to 41
    high: Market  # 42 or above

    @property
    def markets(self) -> list[Market]:
        return [self.low, self.mid, self.high]


def build_world(
    *,
    series: str = "KXHIGHTEST",
    probabilities: tuple[str, str, str] = ("0.10", "0.75", "0.15"),
    city_name: str = "Testville",
) -> World:
    city = CityFactory.create(name=city_name, high_series_ticker=series)
    event = EventFactory.create(
        series=SeriesFactory.create(ticker=series, city=city), event_ticker=f"{series}-25FEB28", target_date=DAY
    )
    common = {"event": event, "close_time": CLOSE, "open_time": NOW - timedelta(days=1)}
    low = MarketFactory.create(
        ticker=f"{series}-25FEB28-T40", strike_type="less", floor_strike=None, cap_strike=D(40), **common
    )
    mid = MarketFactory.create(
        ticker=f"{series}-25FEB28-B40.5", strike_type="between", floor_strike=D(40), cap_strike=D(41), **common
    )
    high = MarketFactory.create(
        ticker=f"{series}-25FEB28-T41", strike_type="greater", floor_strike=D(41), cap_strike=None, **common
    )
    world = World(event, low, mid, high)
    predict(world, probabilities, at=NOW - timedelta(minutes=5))
    return world


def predict(world: World, probabilities: tuple[str, str, str], *, at: datetime) -> None:
    model, _ = ModelVersion.objects.get_or_create(
        name="test", version=1, defaults={"kind": "statistical", "status": "promoted", "trained_at": at}
    )
    prediction = Prediction.objects.create(model_version=model, event=world.event, as_of=at)
    for market, p in zip(world.markets, probabilities, strict=True):
        BracketProbability.objects.create(prediction=prediction, market=market, probability=D(p))


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
