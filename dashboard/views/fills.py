"""Fills, each beside the decision that placed its order."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE, page_of
from trading.models import Fill


@staff_member_required
@never_cache
def fills(request: HttpRequest) -> HttpResponse:
    """The mode's fills, newest first and paged, each beside the decision that placed its order (what we
    believed then)."""
    rows = Fill.objects.filter(mode=settings.TRADING_MODE).select_related("order").order_by("-created_time", "-id")
    return render(request, "dashboard/fills.html", {"page": page_of(rows, request.GET.get("page"), PER_PAGE)})
