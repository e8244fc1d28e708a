"""Fills, each beside the decision that placed its order."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from trading.models import Fill

FILLS_SHOWN = 200


@staff_member_required
@never_cache
def fills(request: HttpRequest) -> HttpResponse:
    """The mode's latest fills, each beside the decision that placed its order (what we believed then)."""
    shown = list(
        Fill.objects.filter(mode=settings.TRADING_MODE).select_related("order").order_by("-created_time")[:FILLS_SHOWN]
    )
    return render(request, "dashboard/fills.html", {"fills": shown, "limit": FILLS_SHOWN})
