"""The P&L page: equity and balance over time, P&L by day, week, month, city and strategy, refreshed live."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trading.tests.ledgers import build_ledger, grow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the report is cached per ledger version; another test's ledger may look the same


@pytest.fixture
def ledger():
    return build_ledger()


def table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"')[1].split("</table>")[0]


def test_it_shows_the_realised_pnl_and_the_equity_in_dollars(staff_client, ledger):
    html = staff_client.get(reverse("dashboard-pnl")).content.decode()
    summary = html.split('id="pnl-summary"')[1].split("</p>")[0]
    assert "Realised $0.49 (fees paid $0.41)" in summary
    assert "cash $1,000.49" in summary and "equity $1,000.49" in summary
    assert "markets won 1, lost 2" in summary
    assert "worst drawdown $0.96 (0.1% of the peak)" in summary and "2025-03-01 to 2025-03-04" in summary
    assert "Days are UTC days" in html


def test_days_weeks_and_months(staff_client, ledger):
    html = staff_client.get(reverse("dashboard-pnl")).content.decode()
    days = table(html, "pnl-days")
    assert days.index("2025-03-04") < days.index("2025-02-27")  # newest first
    assert "<td>2025-03-01</td><td><strong>$1.75</strong></td><td>$0.27</td>\n    <td>$1.48</td><td>$0.05</td>" in days
    weeks = table(html, "pnl-weeks")
    assert "<td>2025-W09</td><td><strong>$1.45</strong></td>" in weeks
    assert "<td>2025-W10</td><td><strong>-$0.96</strong></td>" in weeks
    months = table(html, "pnl-months")
    assert "<td>2025-02</td><td><strong>-$0.30</strong></td>" in months
    assert "<td>2025-03</td><td><strong>$0.79</strong></td>" in months


def test_by_city_and_by_strategy(staff_client, ledger):
    html = staff_client.get(reverse("dashboard-pnl")).content.decode()
    cities = table(html, "pnl-cities")
    assert cities.index("Testville") < cities.index("Otherville")  # best first
    assert (
        "<td><strong>$1.45</strong></td><td>-$0.03</td><td>$1.48</td>\n    <td>$0.35</td><td>1</td><td>1</td>" in cities
    )
    strategies = table(html, "pnl-strategies")
    assert "model-taker</td>\n    <td><strong>$2.59</strong></td>" in strategies
    assert "model-maker</td>\n    <td><strong>-$2.10</strong></td>" in strategies


def test_the_charts_data_is_exact_and_on_a_date_axis(staff_client, ledger):
    html = staff_client.get(reverse("dashboard-pnl")).content.decode()
    data = json.loads(html.split('id="pnl-chart-data" type="application/json">')[1].split("</script>")[0])
    assert data["days"][0] == "2025-02-26" and data["ledger_equity"][0] == "1000.000000"
    assert data["ledger_equity"][-1] == "1000.490000"
    assert data["cycle_cash"] == [None] * len(data["days"])  # no trading cycle ran in this ledger
    assert data["pnl_days"] == ["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-03", "2025-03-04"]
    assert data["pnl"][2] == "1.750000"
    assert 'id="equity-chart"' in html and 'id="daily-chart"' in html


def test_a_fill_or_settlement_refreshes_the_body_alone(staff_client, ledger):
    page = staff_client.get(reverse("dashboard-pnl")).content.decode()
    trigger = "live-order-filled from:body, live-settlement from:body, live-reconnected from:body"
    assert f'hx-trigger="{trigger}"' in page
    body = staff_client.get(reverse("dashboard-pnl"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in body and 'id="pnl-days"' in body and 'id="pnl-chart-data"' in body


def test_an_empty_ledger_says_so(staff_client):
    html = staff_client.get(reverse("dashboard-pnl")).content.decode()
    assert "No fills or settlements yet" in html and "Nothing realised yet." in html


def test_it_is_for_staff(client):
    assert client.get(reverse("dashboard-pnl")).status_code == 302


def test_the_page_costs_the_same_few_queries_for_more_days(staff_client, ledger, django_assert_max_num_queries):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("dashboard-pnl"))
        return len(captured.captured_queries)

    grow(2)
    # The report's (summed: a new ledger), the session, its user and the banner's trading state.
    with django_assert_max_num_queries(REPORT_QUERIES + 3):
        small = queries()
    grow(20, first=2)
    assert queries() == small


REPORT_QUERIES = 4 + 11  # the ledger's version, then the sums
