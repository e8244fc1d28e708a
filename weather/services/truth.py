"""Settlement truth: the observed high of a climate day, chosen in one place.

Kalshi settles on the final NWS Daily Climate Report (CLI). Live, that is what
we keep. For history, the same reports as archived and parsed by the Iowa
Environmental Mesonet (IEM) come next, then the NWS climate database (ACIS),
which carries the same values, then NOAA's GHCN-Daily (which differs from the
CLI by a degree on ~2% of days), then weaker sources. Preliminary reports and running
maxima are never truth: the day was not over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from weather.models import City, Observation

PRECEDENCE: tuple[str, ...] = (
    Observation.Source.CLI,
    Observation.Source.IEM_CLI,
    Observation.Source.ACIS,
    Observation.Source.GHCND,
    Observation.Source.NWS_CITY,
    Observation.Source.FIVETHIRTYEIGHT,
)


@dataclass(frozen=True)
class ObservedHigh:
    value_f: float
    source: str


def observed_highs(city: City, start: date, end: date) -> dict[date, ObservedHigh]:
    """The best observed high of each climate day in [start, end] that has one."""
    rank = {source: i for i, source in enumerate(PRECEDENCE)}
    best: dict[date, tuple[int, ObservedHigh]] = {}
    rows = Observation.objects.filter(
        city=city, date__gte=start, date__lte=end, source__in=PRECEDENCE, high_f__isnull=False
    ).values_list("date", "source", "high_f")
    for day, source, high in rows:
        if high is None:  # excluded by the query; narrows the type
            continue
        candidate = (rank[source], ObservedHigh(float(high), source))
        if day not in best or candidate[0] < best[day][0]:
            best[day] = candidate
    return {day: chosen for day, (_, chosen) in best.items()}
