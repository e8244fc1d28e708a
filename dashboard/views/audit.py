"""The audit trail: every trading-state change and every risk-limit change, newest first, paged."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import CharField, F, QuerySet, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trading.models import TradingState, TradingStateChange

PAGE_SIZE = 50
STATE_LABELS = dict(TradingState.State.choices)


@staff_member_required
@never_cache
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """Who changed what, when and why, newest first (two queries a page: the count and the rows)."""
    page = Paginator(audit_rows(), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_readable(row) for row in page.object_list]
    return render(request, "dashboard/audit.html", {"page": page})


def audit_rows() -> QuerySet[Any, Any]:
    """Both trails as one list of the same columns, so the database sorts and pages them together."""
    text = CharField()
    states = TradingStateChange.objects.annotate(
        kind=Value("state", output_field=text),
        subject=Value("trading state", output_field=text),
        old=F("from_state"),
        new=F("to_state"),
        via=Value("", output_field=text),
    ).values("at", "id", "kind", "subject", "old", "new", "actor", "reason", "via")
    return states.order_by("-at", "-id")


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    if row["kind"] == "state":
        row["old"], row["new"] = STATE_LABELS.get(row["old"], row["old"]), STATE_LABELS.get(row["new"], row["new"])
    return row
