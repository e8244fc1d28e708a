"""Models: each version's validation scores as tables, the live record against the market, and a plain warning.

The live record scores what was stored, not a new evaluation: for every
settled event of the window, the model's last stored prediction before the
event's day began (00:00 UTC, the evening before in American cities) against
the market's last prints at that moment, normalised into probabilities as
the predictor normalises them, with prediction.scoring's Brier losses. The
running advantage is the market's Brier minus the model's over every event
so far: above zero the model beats the price.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.db.models import DateTimeField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from markets.models import Event, Market, Trade
from prediction.models import BracketProbability, ModelVersion, Prediction
from prediction.scoretable import ScoreRow, overall, score_rows
from prediction.scoring import brier_losses, normalise_prices

VERSIONS_SHOWN = 20
DEFAULT_DAYS, MAX_DAYS = 90, 730
# A year of settled events is thousands of predictions to score; they change only as events settle
# (every 10 minutes at most), so each window is scored once every few minutes, not on every load.
RECORD_SECONDS = 300


@dataclass(frozen=True)
class RecordPoint:
    """The live record up to the end of ``day``: running Brier of model and market over every event so far."""

    day: date
    events: int
    brier_model: float
    brier_market: float

    @property
    def advantage(self) -> float:
        return self.brier_market - self.brier_model


@dataclass(frozen=True)
class VersionScores:
    version: ModelVersion
    rows: list[ScoreRow]


def worse_than_market(version: ModelVersion | None) -> str | None:
    """The plain warning when the promoted version's validation Brier is worse than the market's; else None."""
    row = overall(version.validation_scores or {}) if version is not None else None
    if row is None or row.brier_model is None or row.brier_market is None or row.brier_model <= row.brier_market:
        return None
    return (
        f"The promoted model is worse than the market: Brier {row.brier_model:.4f} vs {row.brier_market:.4f} "
        f"over {row.n_events or 0:,} events. Trading on it loses to the price."
    )


def live_record(*, since: date, until: date) -> list[RecordPoint]:
    """The running Brier of the stored predictions and of the market on the events settled in [since, until]."""
    # Per event, through the predictions' event index: a handful of rows each, not every prediction of the window.
    before_the_day = Prediction.objects.filter(
        event=OuterRef("pk"), as_of__lt=Cast(OuterRef("target_date"), DateTimeField())
    ).order_by("-as_of", "-id")
    chosen = (
        Event.objects.filter(target_date__gte=since, target_date__lte=until)
        .annotate(prediction=Subquery(before_the_day.values("pk")[:1]))
        .filter(prediction__isnull=False)
        .values_list("prediction", "target_date")
    )
    days = {pk: day for pk, day in chosen if day is not None}
    last_print = Trade.objects.filter(market=OuterRef("market"), created_time__lte=OuterRef("prediction__as_of"))
    brackets = (
        BracketProbability.objects.filter(prediction_id__in=list(days))
        .annotate(price=Subquery(last_print.order_by("-created_time", "-trade_id").values("yes_price")[:1]))
        .order_by("prediction_id", "market__floor_strike", "market__ticker")
        .values_list("prediction_id", "probability", "market__result", "price")
    )
    events: dict[int, list[tuple[Decimal, str, Decimal | None]]] = defaultdict(list)
    for prediction, probability, result, price in brackets:
        events[prediction].append((probability, result, price))
    return _running([(days[pk], rows) for pk, rows in events.items()])


def _running(events: list[tuple[date, list[tuple[Decimal, str, Decimal | None]]]]) -> list[RecordPoint]:
    """Per day, then cumulative: Brier sums and market counts of model and market (scored in one call each)."""
    scored = []
    for day, rows in events:
        results = [result for _, result, _ in rows]
        prices = [price for _, _, price in rows]
        if any(r not in (Market.Result.YES, Market.Result.NO) for r in results) or all(p is None for p in prices):
            continue  # not settled yet (or void), or the market never traded by then: nothing to compare
        scored.append(
            (day, [float(p) for p, _, _ in rows], normalise_prices(prices), [int(r == "yes") for r in results])
        )
    if not scored:
        return []
    truth = [t for _, _, _, t in scored]
    model = brier_losses([m for _, m, _, _ in scored], truth)
    market = brier_losses([k for _, _, k, _ in scored], truth)
    sums: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])  # model, market, markets, events
    for (day, _, _, outcome), ours, theirs in zip(scored, model, market, strict=True):
        total = sums[day]
        total[0] += sum(ours)
        total[1] += sum(theirs)
        total[2] += len(outcome)
        total[3] += 1
    points, running = [], [0.0, 0.0, 0.0, 0.0]
    for day in sorted(sums):
        running = [a + b for a, b in zip(running, sums[day], strict=True)]
        points.append(RecordPoint(day, int(running[3]), running[0] / running[2], running[1] / running[2]))
    return points


def _window(request: HttpRequest) -> int:
    asked = request.GET.get("days", "")
    return min(max(int(asked), 7), MAX_DAYS) if asked.isdigit() else DEFAULT_DAYS


@staff_member_required
@never_cache
def models(request: HttpRequest) -> HttpResponse:
    """Model versions with readable validation tables, and the promoted model against the market over time."""
    today = timezone.now().date()
    days = _window(request)
    versions = list(ModelVersion.objects.defer("artifact").order_by("-trained_at", "-id")[:VERSIONS_SHOWN])
    promoted = next((v for v in versions if v.status == ModelVersion.Status.PROMOTED), None)
    if promoted is None:
        promoted = ModelVersion.objects.promoted().defer("artifact").order_by("-promoted_at").first()
    record: list[RecordPoint] = (
        cache.get_or_set(
            f"dashboard-models-record:{today}:{days}",
            lambda: live_record(since=today - timedelta(days=days), until=today),
            RECORD_SECONDS,
        )
        or []
    )
    chart = {
        "labels": [p.day.isoformat() for p in record],
        "advantage": [round(p.advantage, 4) for p in record],
        "model": [round(p.brier_model, 4) for p in record],
        "market": [round(p.brier_market, 4) for p in record],
    }
    context = {
        "warning": worse_than_market(promoted),
        "promoted": promoted,
        "versions": [VersionScores(v, score_rows(v.validation_scores or {})) for v in versions],
        "record": record,
        "latest": record[-1] if record else None,
        "chart": chart,
        "days": days,
    }
    return render(request, "dashboard/models.html", context)
