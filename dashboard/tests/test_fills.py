"""Fills, each beside the decision that caused it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.views.fills import FillRow
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.models import Fill, RiskLimits
from trading.services import resume_trading
from trading.tests.world import NOW, build_world, quiet_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def traded():
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    run_cycle(PaperBroker(), now=NOW)
    return world


def test_each_fill_shows_what_we_believed_when_we_placed_it(staff_client, traded):
    fill = Fill.objects.get(ticker=traded.mid.ticker)
    html = staff_client.get(reverse("dashboard-fills")).content.decode()
    row = html.split('id="fills"')[1].split(f"<td>{fill.ticker}</td>")[1].split("</tr>")[0]
    assert f"{int(fill.count)} YES" in row and "42¢" in row and "taker" in row
    assert "38¢ / 42¢" in row  # the quote the decision saw
    assert "model-taker: p 0." in row  # the strategy and its reason


def test_the_page_costs_the_same_queries_for_more_fills(staff_client, traded):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("dashboard-fills"))
        return len(captured.captured_queries)

    before, fills = queries(), Fill.objects.count()
    quiet_books(build_world(series="KXHIGHTEST2", city_name="Otherville"))
    run_cycle(PaperBroker(), now=NOW + timedelta(seconds=30))
    assert Fill.objects.count() > fills and queries() == before


def test_fills_page_newest_first_with_links_both_ways(staff_client, traded, monkeypatch):
    monkeypatch.setattr("dashboard.views.fills.PER_PAGE", 1)
    quiet_books(build_world(series="KXHIGHTEST2", city_name="Otherville"))
    run_cycle(PaperBroker(), now=NOW + timedelta(seconds=30))  # a second fill, newer
    newest_first = list(Fill.objects.order_by("-created_time", "-id").values_list("ticker", flat=True))
    assert len(newest_first) >= 2
    first = staff_client.get(reverse("dashboard-fills")).content.decode()
    second = staff_client.get(reverse("dashboard-fills"), {"page": 2}).content.decode()
    assert f"<td>{newest_first[0]}</td>" in first and f"<td>{newest_first[1]}</td>" not in first
    assert f"<td>{newest_first[1]}</td>" in second
    assert "older →" in first and "← newer" not in first and "← newer" in second


def test_the_edge_cell_reads_a_zero_edge_and_a_dash_without_a_decision(traded):
    fill = Fill.objects.select_related("order").get(ticker=traded.mid.ticker)
    order = fill.order
    assert order is not None
    order.decision = {**order.decision, "expected_value": "0.0000"}
    assert FillRow.of(fill).edge == "0¢"  # an order that saw no edge says so, not "—"
    order.decision = {}
    assert FillRow.of(fill).edge == "—"
    fill.order = None
    row = FillRow.of(fill)
    assert row.edge == "—" and row.why is None
