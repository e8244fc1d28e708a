"""Today's markets: the model against the book, from the same snapshot and decision log the trading cycle uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from dashboard.views.market_charts import price_charts
from markets.models import Event
from prediction.models import ModelVersion, Prediction
from trading.decisions import EventView, MarketView
from trading.models import DecisionLogEntry
from trading.snapshot import StoredBooks, event_views, model_probabilities, open_days, open_events


@dataclass(frozen=True)
class BracketRow:
    market: MarketView
    label: str
    decision: DecisionLogEntry | None  # the latest cycle's verdict on it, in this mode


@dataclass(frozen=True)
class EventPanel:
    view: EventView
    rows: tuple[BracketRow, ...]
    running_max_f: float | None
    sources: tuple[str, ...]
    predicted_at: datetime | None


@staff_member_required
@never_cache
def markets_today(request: HttpRequest) -> HttpResponse:
    """Each open event per city: the model's probability against the market's prices, and the last verdict."""
    now = timezone.now()
    days = open_days(now)
    day = _day_asked(request.GET.get("day"), days)
    events = open_events(now, day=day) if day is not None else []
    probabilities, model = model_probabilities(events, now)
    views = event_views(events, now, StoredBooks(), probabilities, model)
    latest = _latest_decisions([m.ticker for v in views for m in v.markets])
    predictions = _latest_predictions(events, now)
    panels = [
        EventPanel(
            view=view,
            rows=tuple(BracketRow(m, m.bracket.label(), latest.get(m.ticker)) for m in view.markets),
            running_max_f=predictions[view.event_ticker].running_max_f if view.event_ticker in predictions else None,
            sources=tuple(sorted(predictions[view.event_ticker].inputs)) if view.event_ticker in predictions else (),
            predicted_at=predictions[view.event_ticker].as_of if view.event_ticker in predictions else None,
        )
        for view in sorted(views, key=lambda v: (v.city, v.target_date))
    ]
    charts = price_charts(views, mode=settings.TRADING_MODE, now=now)
    context = {"panels": panels, "model": model, "now": now, "charts": charts, "days": days, "day": day}
    return render(request, "dashboard/markets.html", context)


def _day_asked(given: str | None, days: list[date]) -> date | None:
    """The climate day asked for (``?day=YYYY-MM-DD``) if markets of it are open, else the first open day:
    one day's events at a time (today's, unless tomorrow's are asked for) keeps the page quick to read and to serve.
    """
    try:
        asked = date.fromisoformat(given) if given else None
    except ValueError:
        asked = None
    return asked if asked in days else (days[0] if days else None)


def _latest_decisions(tickers: list[str]) -> dict[str, DecisionLogEntry]:
    """Each market's entry in the configured mode's latest cycle that logged it (bounded: one cycle's rows).

    The latest cycle is read off the log itself, newest first by the (mode, at) index, which stops at the
    first entry for one of the tickers; joining the cycles to the log instead read every entry of every
    ticker (seconds on a year's log).
    """
    cycle = (
        DecisionLogEntry.objects.filter(mode=settings.TRADING_MODE, ticker__in=tickers)
        .order_by("-at")
        .values_list("cycle_id", flat=True)
        .first()
    )
    if cycle is None:
        return {}
    return {e.ticker: e for e in DecisionLogEntry.objects.filter(cycle_id=cycle, ticker__in=tickers)}


def _latest_predictions(events: list[Event], now: datetime) -> dict[str, Prediction]:
    """The promoted model's newest prediction of each event, by event ticker."""
    model = ModelVersion.objects.promoted().first()
    if model is None:
        return {}
    newest = Prediction.objects.newest_per_event(model, [e.pk for e in events], now).select_related("event")
    return {prediction.event.event_ticker: prediction for prediction in newest}
