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

from trading.models import RiskLimitChange, TradingState, TradingStateChange

PAGE_SIZE = 50
STATE_LABELS = dict(TradingState.State.choices)
COLUMNS = ["row_at", "row_id", "kind", "subject", "old", "new", "who", "why", "via_"]


@staff_member_required
@never_cache
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """Who changed what, when and why, newest first (two queries a page: the count and the rows)."""
    page = Paginator(audit_rows(), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_readable(row) for row in page.object_list]
    return render(request, "dashboard/audit.html", {"page": page})


def audit_rows() -> QuerySet[Any, Any]:
    """Both trails as one list of the same columns, so the database sorts and pages them together.

    Every column is an annotation, in the same order on both sides, so the
    UNION lines them up whatever order Django puts model fields in.
    """
    text = CharField()
    states = TradingStateChange.objects.annotate(
        row_at=F("at"),
        row_id=F("id"),
        kind=Value("state", output_field=text),
        subject=Value("trading state", output_field=text),
        old=F("from_state"),
        new=F("to_state"),
        who=F("actor"),
        why=F("reason"),
        via_=Value("", output_field=text),
    ).values(*COLUMNS)
    limits = RiskLimitChange.objects.annotate(
        row_at=F("at"),
        row_id=F("id"),
        kind=Value("limit", output_field=text),
        subject=F("field"),
        old=F("old_value"),
        new=F("new_value"),
        who=F("actor"),
        why=F("reason"),
        via_=F("via"),
    ).values(*COLUMNS)
    # Each side unordered (the models' default ordering is not allowed inside a UNION); the union is ordered.
    return states.order_by().union(limits.order_by(), all=True).order_by("-row_at", "-kind", "-row_id")


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """Labels a person reads: "Halted" for halted, "max order cost ($)" for max_order_cost."""
    if row["kind"] == "state":
        row["old"], row["new"] = STATE_LABELS.get(row["old"], row["old"]), STATE_LABELS.get(row["new"], row["new"])
    else:
        row["subject"] = RiskLimitChange(field=row["subject"]).label
    return row
