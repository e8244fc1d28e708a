"""A trading world in the database: each city's event on a climate day, its brackets, and our predictions of them.

The drill lists one event per city with a run of brackets; the fault tests
list one small event. Both go through :func:`list_event` and :func:`predict`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from markets.models import Event, Market, Series
from prediction.models import BracketProbability, ModelVersion, Prediction
from weather.models import City

D = Decimal
PROBABILITY = Decimal("0.0001")  # the places a stored bracket probability keeps


@dataclass(frozen=True)
class Bracket:
    suffix: str  # after the event ticker: T40, B40.5
    strike_type: str  # less, between, greater
    floor: Decimal | None
    cap: Decimal | None


@dataclass
class World:
    event: Event
    markets: list[Market]  # in strike order, coldest first

    @property
    def tickers(self) -> list[str]:
        return [m.ticker for m in self.markets]


def brackets(low: int, *, between: int) -> list[Bracket]:
    """Kalshi's run of brackets: below ``low``, ``between`` two-degree ones from it, and the tail above."""
    run = [Bracket(f"T{low}", Market.StrikeType.LESS, None, D(low))]
    for n in range(between):
        floor = low + 2 * n
        run.append(Bracket(f"B{floor}.5", Market.StrikeType.BETWEEN, D(floor), D(floor + 1)))
    top = low + 2 * between - 1
    run.append(Bracket(f"T{top}", Market.StrikeType.GREATER, D(top), None))
    return run


def event_ticker(series: Series, day: date) -> str:
    return f"{series.ticker}-{day:%y%b%d}".upper()


def list_event(
    series: Series, day: date, run: Sequence[Bracket], *, open_time: datetime, close_time: datetime
) -> World:
    """The series' event of ``day`` with a market per bracket, open for trading between the two times."""
    event = Event.objects.create(series=series, event_ticker=event_ticker(series, day), target_date=day)
    markets = [
        Market.objects.create(
            event=event,
            ticker=f"{event.event_ticker}-{bracket.suffix}",
            strike_type=bracket.strike_type,
            floor_strike=bracket.floor,
            cap_strike=bracket.cap,
            status=Market.Status.ACTIVE,
            open_time=open_time,
            close_time=close_time,
        )
        for bracket in run
    ]
    return World(event, markets)


def predict(
    world: World, probabilities: Sequence[Decimal | str], *, at: datetime, model_name: str = "drill"
) -> Prediction:
    """Our model's probability of each bracket as of ``at`` (a promoted model of that name is made on first use)."""
    model, _ = ModelVersion.objects.get_or_create(
        name=model_name, version=1, defaults={"kind": "statistical", "status": "promoted", "trained_at": at}
    )
    prediction = Prediction.objects.create(model_version=model, event=world.event, as_of=at)
    BracketProbability.objects.bulk_create(
        BracketProbability(prediction=prediction, market=market, probability=D(p))
        for market, p in zip(world.markets, probabilities, strict=True)
    )
    return prediction


def city_worlds(cities: Sequence[City], day: date, *, now: datetime, between: int, rng: random.Random) -> list[World]:
    """An event of ``day`` for each city's daily-high series, brackets around a seeded temperature."""
    worlds = []
    for city in cities:
        series, _ = Series.objects.get_or_create(
            ticker=city.high_series_ticker,
            defaults={"title": f"Highest temperature in {city.name}", "city": city, "measure": Series.Measure.HIGH},
        )
        run = brackets(rng.randrange(20, 90), between=between)
        open_time, close_time = now - timedelta(days=1), now + timedelta(days=2)
        worlds.append(list_event(series, day, run, open_time=open_time, close_time=close_time))
    return worlds


def spread_out(weights: Sequence[float]) -> list[Decimal]:
    """Probabilities in proportion to positive weights, summing to 1 to the places stored."""
    total = sum(weights)
    shares = [D(w / total).quantize(PROBABILITY) for w in weights]
    shares[-1] += 1 - sum(shares)  # the rounding, on the last bracket
    return shares
