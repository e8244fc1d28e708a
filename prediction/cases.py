"""The inputs of a prediction: an event as it could be known at a decision time.

Plain frozen dataclasses with no Django imports, built by prediction.dataset
from the database and consumed by the pure forecasting and scoring code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from markets.brackets import Bracket


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
    high_f: float
    n_hours: int
    members: tuple[float, ...]
    available_at: datetime


@dataclass(frozen=True)
class MarketInput:
    ticker: str
    bracket: Bracket
    last_price: Decimal | None  # last trade at or before the decision time, in dollars
    last_trade_at: datetime | None


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

    @property
    def brackets(self) -> list[Bracket]:
        return [market.bracket for market in self.markets]


@dataclass(frozen=True)
class TrainingPair:
    """What was forecast for one past day at the decision's clock time, and the high that followed."""

    day: date
    decided_at: datetime
    forecasts: tuple[ForecastInput, ...]
    observed_high_f: float
    known_from: datetime  # when the observed high was published: usable for training after this
