"""The inputs of a prediction: an event as it could be known at a decision time.

Plain frozen dataclasses with no Django imports, built by prediction.dataset
from the database and consumed by the pure forecasting and scoring code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from markets.brackets import Bracket, ladder_centre
from prediction.book import BookFeatures
from weather.climate import climate_day_window
from weather.quantities import ForecastQuantity

HIGH_PUBLISHED_AFTER = timedelta(hours=9)  # into the next climate day: the final CLI is out by then


def high_known_from(day: date, standard_offset_minutes: int) -> datetime:
    """When a climate day's high (and so its markets' outcome) counts as known: 09:00 standard time next day."""
    start_of_next, _ = climate_day_window(day + timedelta(days=1), standard_offset_minutes)
    return start_of_next + HIGH_PUBLISHED_AFTER


@dataclass(frozen=True)
class DecisionTime:
    """A local clock time at the city, on the climate day or the evening before."""

    clock: time
    day_before: bool = False

    def at(self, target: date, zone: str) -> datetime:
        day = target - timedelta(days=1) if self.day_before else target
        return datetime.combine(day, self.clock, tzinfo=ZoneInfo(zone))

    def label(self) -> str:
        return f"{self.clock:%H:%M}" + (" the day before" if self.day_before else " on the day")


@dataclass(frozen=True)
class ForecastInput:
    source: str
    model: str
    lead_days: int
    high_f: float  # the value of ``quantity``, °F
    n_hours: int
    members: tuple[float, ...]
    available_at: datetime
    quantity: ForecastQuantity = ForecastQuantity.HIGH

    @property
    def usable(self) -> bool:
        """A whole day's high, or a predictor of it that is one hour by nature (not a partial day's maximum)."""
        if not math.isfinite(self.high_f):
            return False
        return self.n_hours >= 24 if self.quantity is ForecastQuantity.HIGH else True


@dataclass(frozen=True)
class MarketInput:
    ticker: str
    bracket: Bracket
    last_price: Decimal | None  # last trade at or before the decision time, in dollars
    last_trade_at: datetime | None
    mid_price: Decimal | None = None  # live: the mid of a fresh two-sided quote, when there is one

    @property
    def price(self) -> Decimal | None:
        """The market's price at the decision: the quote's mid when known, else the last trade."""
        return self.mid_price if self.mid_price is not None else self.last_price


@dataclass(frozen=True)
class KnownHigh:
    day: date
    high_f: float
    source: str
    known_from: datetime


@dataclass(frozen=True)
class Outcome:
    winner: str  # ticker of the market that resolved YES
    high_f: float | None  # the settled or observed high of the day, when known


@dataclass(frozen=True)
class EventCase:
    event_ticker: str
    series_ticker: str
    city: str
    target_date: date
    decided_at: datetime
    standard_offset_minutes: int
    markets: tuple[MarketInput, ...]  # ordered from the lowest bracket to the highest
    forecasts: tuple[ForecastInput, ...]
    history: tuple[KnownHigh, ...]  # the city's observed highs known by decided_at, oldest first
    running_max_f: float | None
    outcome: Outcome | None = field(default=None, compare=False)
    listed_at: datetime | None = None  # when the event's first market opened
    book: BookFeatures | None = None  # order-book features at the decision (ENABLE_MICRO_FEATS)

    @property
    def brackets(self) -> list[Bracket]:
        return [market.bracket for market in self.markets]

    @property
    def ladder_centre_f(self) -> float | None:
        """Kalshi's expected high at listing (the ladder's centre), if the event was listed by the decision."""
        return listed_centre(self.brackets, listed_at=self.listed_at, decided_at=self.decided_at)


def outcomes(case: EventCase) -> list[int]:
    """Scoring's outcome vector: 1 for the market that won, 0 for the others (all 0 while unknown)."""
    winner = case.outcome.winner if case.outcome is not None else None
    return [int(market.ticker == winner) for market in case.markets]


def listed_centre(brackets: list[Bracket], *, listed_at: datetime | None, decided_at: datetime) -> float | None:
    if listed_at is None or listed_at > decided_at:
        return None
    return ladder_centre(brackets)


@dataclass(frozen=True)
class TrainingPair:
    """What was forecast for one past day at the decision's clock time, and the high that followed."""

    day: date
    decided_at: datetime
    forecasts: tuple[ForecastInput, ...]
    observed_high_f: float
    known_from: datetime  # when the observed high was published: usable for training after this
    ladder_centre_f: float | None = None  # the centre of that day's event ladder, if listed by decided_at
    book: BookFeatures | None = None  # that day's order-book features at decided_at, when recorded
