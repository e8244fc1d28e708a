"""Post-mortems: each settled market with what we believed, what the market said, what happened and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.views.postmortem import Outcome, explain
from markets.brackets import Bracket
from trading.models import Settlement
from trading.tests.ledgers import MODE, build_ledger, grow
from weather.models import City, Observation

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def ledger():
    home, away = build_ledger()
    Observation.objects.create(city=City.objects.get(name="Testville"), date=date(2025, 2, 28), source="cli",
                               high_f=40.0, is_final=True)  # fmt: skip
    Observation.objects.create(city=City.objects.get(name="Testville"), date=date(2025, 2, 28),
                               source="station-running", high_f=39.0)  # fmt: skip
    return home, away


def detail(client, ticker: str) -> str:
    settlement = Settlement.objects.get(mode=MODE, ticker=ticker)
    return client.get(reverse("dashboard-postmortem-detail", args=[settlement.pk])).content.decode()


def test_the_list_has_every_settled_market_newest_first_with_its_whole_pnl(staff_client, ledger):
    home, away = ledger
    html = staff_client.get(reverse("dashboard-postmortem")).content.decode()
    listed = html.split('id="postmortems"')[1].split("</table>")[0].split("<tr>")[2:]
    assert len(listed) == 3 and away.mid.ticker in listed[0]
    mid = next(r for r in listed if home.mid.ticker in r)
    assert "Testville · 2025-02-28" in mid and "6 YES" in mid and "$2.52" in mid and "$6.00" in mid
    assert "<strong>$3.55</strong>" in mid  # -0.20 + 0.27 from fills, +3.48 at settlement
    assert "<strong>-$0.96</strong>" in listed[0]


def test_a_winner_explained_from_the_climate_report(staff_client, ledger):
    home, _ = ledger
    html = detail(staff_client, home.mid.ticker)
    assert (
        "We paid 42¢ for YES believing 61%; the market said 45%; the high was 40°F, inside the bracket (40° to 41°), "
        "so YES paid $1.00: +$0.58 a contract before fees. All told, after fees and any trading before it settled: "
        "+$3.55 (a win)."
    ) in html
    assert '40°F <span class="muted">(NWS Daily Climate Report)</span>' in html  # the report, not the running max
    fills = html.split('id="postmortem-fills"')[1].split("</table>")[0]
    assert fills.index("10 YES") < fills.index("4 NO")  # in time order
    assert "61.0%" in fills and "45.0%" in fills and "40¢ / 42¢" in fills and "$0.27" in fills


def test_a_loser_explained(staff_client, ledger):
    home, _ = ledger
    html = detail(staff_client, home.high.ticker)
    assert (
        "We paid 40¢ for YES believing 60%; the market said 45%; the high was 40°F, "
        "outside the bracket (42° or above), so YES paid $0.00: -$0.40 a contract before fees. "
        "All told, after fees and any trading before it settled: "
        "-$2.10 (a loss)."
    ) in html


def test_without_an_observation_it_says_how_the_market_settled(staff_client, ledger):
    _, away = ledger
    html = detail(staff_client, away.mid.ticker)
    assert "the market settled NO, so YES paid $0.00: -$0.30 a contract before fees" in html
    assert "no observation stored" in html


def test_a_no_position_is_explained_from_its_own_side():
    outcome = Outcome(side="no", count=D(5), paid=D("0.40"), payout=D(1), believed=D("0.25"), market_said=D("0.6"),
                      high_f=D("44"), bracket=Bracket(40, 41), result="no", total=D("2.90"))  # fmt: skip
    assert explain(outcome) == (
        "We paid 40¢ for NO believing 75%; the market said 40%; the high was 44°F, outside the bracket (40° to 41°), "
        "so NO paid $1.00: +$0.60 a contract before fees. All told, after fees and any trading before it settled: "
        "+$2.90 (a win)."
    )


def test_another_modes_settlement_is_not_found(staff_client, ledger, settings):
    settlement = Settlement.objects.get(ticker=ledger[0].mid.ticker)
    settings.TRADING_MODE = "DEMO"
    assert staff_client.get(reverse("dashboard-postmortem-detail", args=[settlement.pk])).status_code == 404


def test_they_are_for_staff(client, ledger):
    assert client.get(reverse("dashboard-postmortem")).status_code == 302


def test_the_pages_cost_the_same_queries_for_more_markets(staff_client, ledger, django_assert_max_num_queries):
    home, _ = ledger

    def queries(name: str, *args: object) -> int:
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse(name, args=args))
        return len(captured.captured_queries)

    settlement = Settlement.objects.get(ticker=home.mid.ticker)
    with django_assert_max_num_queries(6):  # session, user, banner; the count and the page
        small = queries("dashboard-postmortem")
    with django_assert_max_num_queries(8):  # session, user, banner; settlement, fills, decisions, observations
        one = queries("dashboard-postmortem-detail", settlement.pk)
    grow(12)
    assert queries("dashboard-postmortem") == small
    assert queries("dashboard-postmortem-detail", settlement.pk) == one
