"""A small, deterministic New York for prediction tests: highs, forecasts, events, trades.

Highs follow a seasonal cycle with noise; a forecast of each day (biased
+1 °F, error sd 1.5 °F) is published at 08:00 local, before the 10:00
decision; every event has six brackets centred on that forecast, listed at
10:00 the day before and closing at 23:59 on the day, and trades per bracket
at 15:00 the day before and 09:30 on the day, priced from a noisier view of
the high. With ``more_sources`` it also has the shapes of the archived
sources: a Visual Crossing-like forecast per lead (1 and 2 days), available
from 00:00 UTC after its issue date, with a partial day at lead 0 that only
arrives after the day, and HRRR/NBM-like guidance valued at 15:00 local,
available three hours after its 12 UTC run the day before. All written by us,
seeded, no third-party data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from markets.models import Event, Market, Series, Trade
from weather.models import City, ForecastSnapshot, Observation
from weather.quantities import ForecastQuantity

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class World:
    city: City
    series: Series
    first_day: date
    first_event: date
    last_day: date


def new_york() -> City:
    """The seeded New York, or (after a test flushed the seed) one made like it."""
    from weather.tests.factories import CityFactory

    city = City.objects.filter(name="New York").first()
    if city is None:
        city = CityFactory.create(name="New York", timezone="America/New_York", standard_utc_offset_minutes=-300)
    return city


def high_on(day: date, rng: random.Random) -> float:
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25)
    return round(55 + 20 * season + rng.gauss(0, 4))


def local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=NEW_YORK).astimezone(UTC)


def build_world(
    *, first_day: date, first_event: date, last_day: date, seed: int = 7, more_sources: bool = False
) -> World:
    """Observations and forecasts from ``first_day``, Kalshi events from ``first_event``, to ``last_day``."""
    rng = random.Random(seed)
    other = random.Random(seed + 1)  # the extra sources' noise: the base world stays the same
    city = new_york()
    series, _ = Series.objects.get_or_create(ticker="KXHIGHNY", defaults={"city": city, "measure": "high"})
    observations, forecasts, trades = [], [], []
    day = first_day
    while day <= last_day:
        high = high_on(day, rng)
        forecast = high + 1.0 + rng.gauss(0, 1.5)
        observations.append(Observation(city=city, date=day, source="ghcnd", high_f=high, is_final=True))
        forecasts.append(
            ForecastSnapshot(
                city=city,
                source="open-meteo",
                model="archive",
                target_date=day,
                issued_at=local(day, time(7)),
                available_at=local(day, time(8)),
                high_f=round(forecast, 1),
                n_hours=24,
            )
        )
        if more_sources:
            forecasts.extend(_archived_sources(city, day, high, other))
        if day >= first_event:
            trades.extend(_event(series, day, high, forecast, rng))
        day += timedelta(days=1)
    Observation.objects.bulk_create(observations)
    ForecastSnapshot.objects.bulk_create(forecasts)
    Trade.objects.bulk_create(trades)
    return World(city, series, first_day, first_event, last_day)


def _archived_sources(city: City, day: date, high: float, rng: random.Random) -> list[ForecastSnapshot]:
    """Visual Crossing-like forecasts at leads 0-2 and HRRR/NBM-like guidance of ``day``."""
    snapshots = []
    for lead in (0, 1, 2):
        issued = day - timedelta(days=lead)
        snapshots.append(
            ForecastSnapshot(
                city=city,
                source="visual-crossing",
                model="historical-city-aggregate",
                target_date=day,
                issued_at=datetime.combine(issued, time(0), tzinfo=UTC),
                available_at=datetime.combine(issued + timedelta(days=1), time(0), tzinfo=UTC),
                high_f=round(high + 2.0 + rng.gauss(0, 1.5 + lead), 1),
                n_hours=10 if lead == 0 else 24,  # the issue day's forecast covers only its remaining hours
            )
        )
    run = datetime.combine(day - timedelta(days=1), time(12), tzinfo=UTC)
    for model, bias in (("hrrr-t2m-1500", -3.0), ("nbm-t2m-1500", -2.0)):
        snapshots.append(
            ForecastSnapshot(
                city=city,
                source="noaa-guidance",
                model=model,
                target_date=day,
                issued_at=run,
                available_at=run + timedelta(hours=3),
                quantity=ForecastQuantity.T2M_1500_LOCAL.value,
                high_f=round(high + bias + rng.gauss(0, 2.0), 1),
                n_hours=1,
            )
        )
    return snapshots


def _event(series: Series, day: date, high: float, forecast: float, rng: random.Random) -> list[Trade]:
    ticker = f"KXHIGHNY-{day:%y%b%d}".upper()
    event = Event.objects.create(series=series, event_ticker=ticker, target_date=day)
    centre = round(forecast)
    floors = [centre - 4 + 2 * i for i in range(4)]  # four two-degree brackets between two tails
    rungs: list[tuple[str, Decimal | None, Decimal | None, str]] = [("less", None, Decimal(floors[0]), f"T{floors[0]}")]
    rungs += [("between", Decimal(f), Decimal(f + 1), f"B{f}.5") for f in floors]
    rungs += [("greater", Decimal(floors[-1] + 1), None, f"T{floors[-1] + 1}")]
    view = high + rng.gauss(0, 1.2)  # the market's own estimate on the day, better than the forecast
    evening_view = high + rng.gauss(0, 2.5)  # and the evening before
    trades = []
    for kind, floor, cap, suffix in rungs:
        low = -math.inf if floor is None else float(floor) - 0.5 + (1 if kind == "greater" else 0)
        upper = math.inf if cap is None else float(cap) - 0.5 if kind == "less" else float(cap) + 0.5
        wins = low <= high < upper
        market = Market.objects.create(
            event=event,
            ticker=f"{ticker}-{suffix}",
            strike_type=kind,
            floor_strike=floor,
            cap_strike=cap,
            status=Market.Status.FINALIZED,
            open_time=local(day - timedelta(days=1), time(10)),
            close_time=local(day, time(23, 59)),
            result=Market.Result.YES if wins else Market.Result.NO,
            expiration_value=f"{high:.2f}",
        )
        for n, (estimate, moment) in enumerate(
            [(evening_view, local(day - timedelta(days=1), time(15))), (view, local(day, time(9, 30)))]
        ):
            price = _price(estimate, low, upper)
            trades.append(
                Trade(
                    trade_id=f"{market.ticker}-{n}",
                    market=market,
                    count=Decimal(10),
                    yes_price=price,
                    no_price=Decimal(1) - price,
                    taker_side="yes",
                    created_time=moment,
                )
            )
    return trades


def _price(view: float, low: float, upper: float) -> Decimal:
    def cdf(x: float) -> float:
        return 0.0 if x == -math.inf else 1.0 if x == math.inf else 0.5 * (1 + math.erf((x - view) / (2.0 * 2**0.5)))

    probability = cdf(upper) - cdf(low)
    return min(Decimal("0.99"), max(Decimal("0.01"), Decimal(str(round(probability, 2)))))
