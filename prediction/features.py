"""Features of one day's high, as known at a decision time: the inputs of the weather model.

Every feature is an estimate of the high in °F (a source's latest forecast, the
climatological mean, the last observed high carried along the season), so the
EMOS model can fall back on the mean of the available ones when one is
missing. Computed only from what a case or training row says was known.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from prediction.book import BookFeatures
from prediction.cases import ForecastInput, KnownHigh
from prediction.climatology import Climatology, ClimatologyError, seasonal_position
from prediction.distributions import Normal

CLIMATOLOGY = "climatology"
PERSISTENCE = "persistence"
LADDER = "kalshi-ladder"  # the centre of the event's brackets: Kalshi's expected high when it listed them
PERSISTENCE_MAX_AGE_DAYS = 3  # an older last high says little about today's


@dataclass(frozen=True)
class Features:
    values: dict[str, float]  # feature name → °F
    spread: float | None  # ensemble standard deviation, when an ensemble forecast is known
    season_sin: float
    season_cos: float
    lead_days: int | None
    micro: dict[str, float] = field(default_factory=dict)  # order-book features, when recorded

    def values_for(self, names: Sequence[str]) -> dict[str, float | None]:
        """The named features, None where this day lacks one (EMOS fills it from the others)."""
        return {name: self.values.get(name) for name in names}


def forecast_key(forecast: ForecastInput) -> str:
    return f"{forecast.source}/{forecast.model}"


class CityKnowledge:
    """A city's observed highs with the moment each was published, and a climatology built once."""

    def __init__(self, history: Sequence[KnownHigh]) -> None:
        self.history = sorted(history, key=lambda h: h.known_from)
        self._known_from = [h.known_from for h in self.history]
        self.climatology = Climatology((h.day, h.high_f) for h in history)

    def known_at(self, when: datetime) -> Sequence[KnownHigh]:
        return self.history[: bisect.bisect_right(self._known_from, when)]

    def climatology_mean(self, day: date, *, when: datetime) -> float | None:
        """The climatological mean of ``day`` from the highs published by ``when``; None without history."""
        normal = self.climatology_normal(day, when=when)
        return None if normal is None else normal.mu

    def climatology_normal(self, day: date, *, when: datetime) -> Normal | None:
        """The climatological distribution of ``day``'s high from the highs published by ``when``."""
        known = self.known_at(when)
        if not known:
            return None
        cutoff = date.fromordinal(max(h.day for h in known[-5:]).toordinal() + 1)
        try:
            return self.climatology.normal(day, cutoff=cutoff)
        except ClimatologyError:
            return None

    def persistence(self, day: date, *, when: datetime, climatology: float | None) -> float | None:
        """The last published high, carried to ``day`` along the seasonal cycle (if it is recent)."""
        known = self.known_at(when)
        if not known:
            return None
        last = max(known[-5:], key=lambda h: h.day)
        if (day - last.day).days > PERSISTENCE_MAX_AGE_DAYS:
            return None
        if climatology is None:
            return last.high_f
        then = self.climatology_mean(last.day, when=when)
        return last.high_f if then is None else climatology + (last.high_f - then)


def features_at(
    *,
    day: date,
    when: datetime,
    forecasts: Sequence[ForecastInput],
    knowledge: CityKnowledge,
    ladder_centre: float | None = None,
    book: BookFeatures | None = None,
) -> Features:
    """Every feature of ``day``'s high known at ``when`` (complete-day forecasts only)."""
    values: dict[str, float] = {}
    if ladder_centre is not None:
        values[LADDER] = ladder_centre
    spreads: list[float] = []
    leads: list[int] = []
    for forecast in forecasts:
        if not forecast.usable:
            continue  # a partial day's maximum is not the day's high
        values[forecast_key(forecast)] = forecast.high_f
        leads.append(forecast.lead_days)
        if len(forecast.members) >= 2:
            spreads.append(statistics.stdev(forecast.members))
    climatology = knowledge.climatology_mean(day, when=when)
    if climatology is not None:
        values[CLIMATOLOGY] = climatology
    persistence = knowledge.persistence(day, when=when, climatology=climatology)
    if persistence is not None:
        values[PERSISTENCE] = persistence
    angle = 2 * math.pi * seasonal_position(day) / 365.25
    return Features(
        values=values,
        spread=statistics.fmean(spreads) if spreads else None,
        season_sin=math.sin(angle),
        season_cos=math.cos(angle),
        lead_days=min(leads) if leads else None,
        micro=book.as_dict() if book is not None else {},
    )
