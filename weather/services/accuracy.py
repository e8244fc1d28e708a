"""Forecast skill per source, model and lead time, against the observed high.

The lead of a forecast is its target climate day minus the climate day (at the
station) on which it became available. For each source, model, target day and
lead, the last run available on that lead day is the one scored: it is what a
trader would have used that day.

Every quantity is scored against the observed high, each under its own label:
a forecast of the high only over a complete climate day (a partial day's
maximum is not the day's high); a single-hour predictor such as the HRRR/NBM
temperature at 15:00 local as it is, so that its bias against the high (it
runs colder) is measured per lead like any source's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from weather.climate import lead_days
from weather.models import City, ForecastSnapshot, SourceAccuracy
from weather.services.truth import observed_highs

WINDOWS_DAYS = (30, 90)


@dataclass(frozen=True)
class ForecastError:
    source: str
    model: str
    target_date: date
    lead_days: int
    forecast_f: float
    observed_f: float
    quantity: str = ForecastSnapshot.Quantity.HIGH

    @property
    def error_f(self) -> float:
        return self.forecast_f - self.observed_f


@dataclass(frozen=True)
class Skill:
    source: str
    model: str
    lead_days: int
    n: int
    mae_f: float
    bias_f: float
    quantity: str = ForecastSnapshot.Quantity.HIGH


def forecast_errors(
    city: City, start: date, end: date, *, max_lead: int = 14, min_hours: int = 24
) -> list[ForecastError]:
    """Scored forecasts of ``city``'s climate days in [start, end] (highs of complete days only)."""
    truth = observed_highs(city, start, end)
    offset = city.standard_utc_offset_minutes
    latest: dict[tuple[str, str, date, int], tuple[datetime, float, str]] = {}
    high = ForecastSnapshot.Quantity.HIGH
    rows = (
        ForecastSnapshot.objects.filter(city=city, target_date__gte=start, target_date__lte=end, high_f__isnull=False)
        .filter(~Q(quantity=high) | Q(n_hours__gte=min_hours))
        .values_list("source", "model", "target_date", "available_at", "high_f", "quantity")
    )
    for source, model, target, available_at, value, quantity in rows.iterator(chunk_size=20_000):
        if value is None or target not in truth or not math.isfinite(value):
            continue
        lead = lead_days(target, available_at, offset)
        if not 0 <= lead <= max_lead:
            continue  # a 'forecast' available after its day began is not scored as one
        key = (source, model, target, lead)
        if key not in latest or available_at > latest[key][0]:
            latest[key] = (available_at, value, quantity)
    return [
        ForecastError(source, model, target, lead, value, truth[target].value_f, quantity)
        for (source, model, target, lead), (_, value, quantity) in sorted(latest.items())
    ]


def summarise(errors: Iterable[ForecastError]) -> list[Skill]:
    """MAE and bias per (source, model, lead), labelled with the quantity the model forecasts."""
    groups: dict[tuple[str, str, int, str], list[float]] = defaultdict(list)
    for error in errors:
        groups[(error.source, error.model, error.lead_days, error.quantity)].append(error.error_f)
    return [
        Skill(source, model, lead, len(diffs), sum(abs(d) for d in diffs) / len(diffs), sum(diffs) / len(diffs), of)
        for (source, model, lead, of), diffs in sorted(groups.items())
    ]


def update_source_accuracy(*, city: City, as_of: date, now: datetime, windows: Iterable[int] = WINDOWS_DAYS) -> int:
    """Store each window's skill computed from the climate days before ``as_of``; returns rows written."""
    windows = tuple(windows)
    end = as_of - timedelta(days=1)
    written = 0
    with transaction.atomic():
        # Every window ends the day before as_of, so one read of the longest covers them all: a
        # target day's scored forecasts do not depend on the range they were read with.
        errors = forecast_errors(city, as_of - timedelta(days=max(windows)), end) if windows else []
        for window in windows:
            start = as_of - timedelta(days=window)
            for skill in summarise(error for error in errors if start <= error.target_date <= end):
                SourceAccuracy.objects.update_or_create(
                    city=city,
                    source=skill.source,
                    model=skill.model,
                    lead_days=skill.lead_days,
                    window_days=window,
                    as_of=as_of,
                    defaults={"n": skill.n, "mae_f": skill.mae_f, "bias_f": skill.bias_f, "computed_at": now},
                )
                written += 1
    return written


def skill_known_on(city: City, day: date, *, window_days: int = WINDOWS_DAYS[0]) -> list[SourceAccuracy]:
    """The skill table the prediction code may use on ``day``: the latest computed by then."""
    latest = (
        SourceAccuracy.objects.filter(city=city, window_days=window_days, as_of__lte=day)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    if latest is None:
        return []
    return list(SourceAccuracy.objects.filter(city=city, window_days=window_days, as_of=latest))
