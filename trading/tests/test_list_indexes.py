"""The lists the dashboard and the API read newest first are served by an index, not a sort of the table.

A year of trading is millions of decisions and tens of thousands of orders and cycles: a list that sorts
its table takes seconds (see benchmarks/bench_web.py). SQLite's plan names the index it walks, and says
"USE TEMP B-TREE" when it has to sort instead.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import QuerySet

from trading.api.views import CycleViewSet, DecisionViewSet, FillViewSet, OrderViewSet
from trading.models import Fill, Settlement, TradingCycle

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN"),
]


def _plan(queryset: QuerySet) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("lists", "index"),
    [
        (lambda: DecisionViewSet().get_queryset()[:100], "decision_at_ticker_id"),
        (lambda: TradingCycle.objects.filter(mode="DRY").order_by("-as_of")[:1], "cycle_mode_as_of"),
        (lambda: CycleViewSet().get_queryset()[:100], "cycle_as_of_id"),
        (lambda: OrderViewSet().get_queryset()[:100], "order_created_at_id"),
        (lambda: FillViewSet().get_queryset()[:100], "fill_created_time_id"),
        (lambda: Fill.objects.filter(mode="DRY").order_by("-created_time")[:200], "fill_mode_created_time"),
        (lambda: Settlement.objects.filter(mode="DRY").order_by("-settled_time")[:50], "settlement_mode_settled_time"),
    ],
)
def test_a_newest_first_list_walks_its_index(lists, index):
    plan = _plan(lists())
    assert index in plan and "TEMP B-TREE" not in plan, plan


def test_a_settlements_last_fill_is_looked_up_by_its_market_not_walked_through_every_fill():
    from trading.pnl import _last_strategy

    plan = _plan(Settlement.objects.filter(mode="DRY").annotate(held_by=_last_strategy()).values("held_by"))
    assert "fill_mode_ticker_time (mode=? AND ticker=?)" in plan, plan


def test_a_verdict_without_a_mode_is_found_by_the_verdict_index():
    from trading.api.filters import DecisionFilter

    chosen = DecisionFilter({"verdict": "refused"}, queryset=DecisionViewSet().get_queryset()).qs
    assert "decision_mode_verdict_at" in _plan(chosen[:101])
