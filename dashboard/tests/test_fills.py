"""Fills, each beside the decision that caused it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
