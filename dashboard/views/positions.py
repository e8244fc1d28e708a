"""Open positions and working orders, with the operator's bulk cancel."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from trading.accounting import account_for
from trading.brokers import BrokerUnavailable
from trading.models import Order, Position
from trading.permissions import may_switch
from trading.services import TradingStateError, cancel_orders


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
