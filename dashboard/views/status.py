"""The status page ("/"): the trading state with the kill switch, data and feed health, the last cycles, today's P&L."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.views.onboarding_steps import setup_steps
from kalshiweb.context import banner_trading_state
from kalshiweb.health import run_health_checks
from trading.accounting import account_for, realized_on
from trading.models import Order, RiskLimits, TradingCycle, TradingState, TradingStateChange
from trading.permissions import may_switch
from weather.models import City

CYCLES_SHOWN = 10
CHANGES_SHOWN = 5
# What "Cancel all working orders" and a halt cancel (trading.services.cancel_working_orders).
CANCELLABLE = (Order.Status.RESTING, Order.Status.AWAITING_APPROVAL, Order.Status.PENDING)
SWITCH_REFUSED = "Changing the trading state or cancelling orders needs the 'Can change trading state' permission."


@staff_member_required
@never_cache
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    """The operator's status page: mode (banner), kill switch and its buttons, health, cycles, today's P&L."""
    now = timezone.now()
    mode = str(settings.TRADING_MODE)
    state: TradingState = banner_trading_state(request)
    steps = setup_steps(mode=mode)
    context = {
        "trading_state": state,
        "tripped_by": tripped_by(state),
        "can_switch": may_switch(request.user),
        "switch_refused": SWITCH_REFUSED,
        "working_orders": Order.objects.filter(mode=mode, status__in=CANCELLABLE).count(),
        "cycles": TradingCycle.objects.filter(mode=mode).order_by("-as_of")[:CYCLES_SHOWN],
        "realized_today": realized_on(mode, now),
        "account": account_for(mode),
        "risk_limits": RiskLimits.load(),
        "state_changes": TradingStateChange.objects.order_by("-at", "-id")[:CHANGES_SHOWN],
        "cities": City.objects.order_by("-is_active", "name"),
        "setup_incomplete": not all(step.done for step in steps),
        "setup_steps": steps,
        **health_context(now),
    }
    return render(request, "home.html", context)


@staff_member_required
@never_cache
@require_GET
def status_health(request: HttpRequest) -> HttpResponse:
    """The health fragment the status page re-fetches (htmx) on live events and every 30 s."""
    return render(request, "dashboard/status_health.html", health_context(timezone.now()))


def health_context(now: datetime) -> dict[str, Any]:
    return {"report": run_health_checks(now=now)}


def tripped_by(state: TradingState) -> str:
    """The automatic trigger that set the state ("daily_loss", …), or "" when a person (or nobody yet) did."""
    actor = state.changed_by or ""
    return actor.removeprefix("system:") if actor.startswith("system:") else ""
