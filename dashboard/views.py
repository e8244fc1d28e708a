"""The trader's pages, server-rendered from the same snapshot and decision log the trading cycle uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from markets.models import Event
from prediction.models import Prediction
from trading.accounting import account_for
from trading.brokers import BrokerUnavailable
from trading.decisions import EventView, MarketView
from trading.models import DecisionLogEntry, Fill, Order, Position, TradingCycle
from trading.permissions import may_switch
from trading.services import TradingStateError, cancel_orders
from trading.snapshot import StoredBooks, event_views, model_probabilities, open_events


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
    events = open_events(now)
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
    return render(request, "dashboard/markets.html", {"panels": panels, "model": model, "now": now})


def _latest_decisions(tickers: list[str]) -> dict[str, DecisionLogEntry]:
    """Each market's entry in the configured mode's latest cycle that logged it (bounded: one cycle's rows)."""
    cycle = (
        TradingCycle.objects.filter(mode=settings.TRADING_MODE, decisions__ticker__in=tickers)
        .order_by("-as_of")
        .values_list("pk", flat=True)
        .first()
    )
    if cycle is None:
        return {}
    return {e.ticker: e for e in DecisionLogEntry.objects.filter(cycle_id=cycle, ticker__in=tickers)}


def _latest_predictions(events: list[Event], now: datetime) -> dict[str, Prediction]:
    found: dict[str, Prediction] = {}
    for prediction in (
        Prediction.objects.filter(event__in=events, as_of__lte=now, model_version__status="promoted")
        .select_related("event")
        .order_by("event_id", "-as_of")
    ):
        found.setdefault(prediction.event.event_ticker, prediction)
    return found


@staff_member_required
@never_cache
def positions(request: HttpRequest) -> HttpResponse:
    """Open positions and working orders of the configured mode; operators cancel orders in bulk here."""
    mode = settings.TRADING_MODE
    if request.method == "POST":
        return _cancel_selected(request)
    held = Position.objects.filter(mode=mode, settled=False).exclude(yes_count=0, no_count=0).order_by("ticker")
    working = Order.objects.filter(mode=mode, status__in=[*Order.WORKING, Order.Status.AWAITING_APPROVAL]).order_by(
        "-created_at"
    )
    context = {
        "positions": held,
        "orders": working,
        "account": account_for(mode),
        "open_cost": sum((p.total_cost for p in held), Decimal(0)),
        "can_cancel": may_switch(request.user),
    }
    return render(request, "dashboard/positions.html", context)


def _cancel_selected(request: HttpRequest) -> HttpResponse:
    if not may_switch(request.user):
        messages.error(request, "Cancelling orders needs the 'Can change trading state' permission.")
        return redirect("dashboard-positions")
    ids = [int(pk) for pk in request.POST.getlist("order") if pk.isdigit()]
    chosen = list(Order.objects.filter(pk__in=ids, mode=settings.TRADING_MODE))
    if not chosen:
        messages.warning(request, "Choose the orders to cancel.")
        return redirect("dashboard-positions")
    try:
        done = cancel_orders(chosen, actor=request.user.get_username(), now=timezone.now())
    except (BrokerUnavailable, TradingStateError) as exc:
        messages.error(request, f"Nothing was cancelled: {exc}")
        return redirect("dashboard-positions")
    cancelled = sum(1 for o in done if o.status == Order.Status.CANCELED)
    left = [o.client_order_id[:8] for o in done if o.status != Order.Status.CANCELED]
    text = f"{cancelled} of {len(done)} orders cancelled."
    if left:
        text += f" Not cancelled (filled or unknown first; see each order's reason): {', '.join(left)}."
    (messages.success if not left else messages.warning)(request, text)
    return redirect("dashboard-positions")


FILLS_SHOWN = 200


@staff_member_required
@never_cache
def fills(request: HttpRequest) -> HttpResponse:
    """The mode's latest fills, each beside the decision that placed its order (what we believed then)."""
    shown = list(
        Fill.objects.filter(mode=settings.TRADING_MODE).select_related("order").order_by("-created_time")[:FILLS_SHOWN]
    )
    return render(request, "dashboard/fills.html", {"fills": shown, "limit": FILLS_SHOWN})
