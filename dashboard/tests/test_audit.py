"""The audit trail: trading-state and risk-limit changes together, newest first, paged, with who, when and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.views.audit import PAGE_SIZE
from trading.services import set_trading_state, update_risk_limits

pytestmark = pytest.mark.django_db

PAGE = "dashboard-audit"
T0 = datetime(2025, 2, 28, 15, tzinfo=UTC)


def rows(html: str) -> list[str]:
    table = html.split('id="audit"')[1].split("</table>")[0]
    return [row.split("</tr>")[0] for row in table.split('<tr class="audit-')[1:]]


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(reverse(PAGE))["Location"].startswith("/admin/login/")


def test_it_interleaves_state_and_limit_changes_newest_first(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(viewer)  # reading needs staff only
    set_trading_state(state="active", reason="limits reviewed", actor="alice", now=T0)
    update_risk_limits({"max_order_cost": Decimal("25")}, actor="bob", now=T0 + timedelta(minutes=1), via="api",
                       reason="bigger tickets")  # fmt: skip
    set_trading_state(state="halted", reason="Tripped automatically: drawdown.", actor="system:drawdown",
                      now=T0 + timedelta(minutes=2))  # fmt: skip
    shown = rows(client.get(reverse(PAGE)).content.decode())
    assert len(shown) == 3
    assert shown[0].startswith('state"><td>2025-02-28 15:02:00</td><td>Trading state</td>')
    assert "<td>Active → Halted</td>" in shown[0]
    assert "system:drawdown" in shown[0] and "Tripped automatically: drawdown." in shown[0]
    assert "<td>Max order cost ($)</td>" in shown[1] and "<td>10 → 25</td>" in shown[1]
    assert 'bob <span class="muted">via api</span>' in shown[1] and "bigger tickets" in shown[1]
    assert "<td>Halted → Active</td>" in shown[2] and "alice" in shown[2] and "limits reviewed" in shown[2]


def test_it_pages_and_costs_the_same_queries_whatever_the_length(staff_client):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured.captured_queries)

    set_trading_state(state="active", reason="r", actor="a", now=T0)
    short = queries(reverse(PAGE))
    for n in range(PAGE_SIZE):
        at = T0 + timedelta(minutes=n + 1)
        set_trading_state(state="reduce_only" if n % 2 else "active", reason=f"r{n}", actor="a", now=at)
        update_risk_limits({"max_drawdown": Decimal(100 + n)}, actor="b", now=at, via="dashboard")
    assert queries(reverse(PAGE)) == short
    first = staff_client.get(reverse(PAGE)).content.decode()
    assert len(rows(first)) == PAGE_SIZE and "page 1 of 3" in first and "r49" in first
    last = staff_client.get(reverse(PAGE), {"page": 3}).content.decode()
    assert len(rows(last)) == 1 and "Halted → Active" in last  # 101 changes: the oldest alone on page 3
