"""The decision log page: newest first, filtered from the query string (htmx swaps the table), paged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trading.models import DecisionLogEntry, TradingCycle
from trading.tests.ledgers import MODE, at, build_ledger
from weather.models import City
from weather.tests.factories import CityFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def ledger():
    home, away = build_ledger()
    cycle = TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 2, 15))
    DecisionLogEntry.objects.create(
        cycle=cycle, mode=MODE, at=at(3, 2, 15), strategy="model-taker", event_ticker=away.event.event_ticker,
        ticker=away.high.ticker, probability=0.3, market_probability=0.5, yes_bid=D("0.48"), yes_ask=D("0.52"),
        side="yes", price=D("0.52"), edge=D("-0.05"), size=D(0), verdict=DecisionLogEntry.Verdict.REFUSED,
        reason="too dear; risk: order cost over the limit", rules=["max_order_cost", "max_event_exposure"],
    )  # fmt: skip
    return home, away


def rows(html: str) -> list[str]:
    return html.split('id="decisions"')[1].split("</table>")[0].split("<tr>")[2:]


def test_newest_first_with_beliefs_prices_edge_size_and_rules(staff_client, ledger):
    html = staff_client.get(reverse("dashboard-decisions")).content.decode()
    listed = rows(html)
    assert len(listed) == 5 and "2025-03-03 01:00:00" in listed[0] and "2025-02-27 15:00:00" in listed[-1]
    refused = listed[1]
    assert "30.0%" in refused and "50.0%" in refused and "48¢ / 52¢" in refused and "YES @ 52¢" in refused
    assert "-5¢" in refused and "Refused by risk" in refused
    assert "<code>max_order_cost</code>, <code>max_event_exposure</code>" in refused
    first = listed[-1]
    assert "61.0%" in first and "45.0%" in first and "YES @ 42¢" in first and "15¢" in first and "Order sent" in first


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"verdict": "refused"}, 1),
        ({"verdict": "ordered", "side": "no"}, 1),
        ({"rule": "max_event_exposure"}, 1),
        ({"rule": "max_drawdown"}, 0),
        ({"since": "2025-03-01", "until": "2025-03-02"}, 2),
        ({"ticker": "b40.5"}, 3),  # any case, part of the ticker
    ],
)
def test_filters(staff_client, ledger, query, expected):
    html = staff_client.get(reverse("dashboard-decisions"), query).content.decode()
    assert len([r for r in rows(html) if "No decisions match" not in r]) == expected


@pytest.mark.parametrize(
    ("few", "lately"),
    [(100, timedelta(days=1)), (0, timedelta(days=1)), (0, timedelta(0))],
    ids=["a few markets: by their tickers", "many, decided lately: the walk", "many, all older: the bounded walk"],
)
@pytest.mark.parametrize(("part", "expected"), [("b40.5", 3), ("KXHIGHTEST2", 2), ("kxhigh", 5), ("nowhere", 0)])
def test_the_market_filter_finds_the_same_decisions_every_way(
    staff_client, ledger, monkeypatch, few, lately, part, expected
):
    monkeypatch.setattr("dashboard.views.decisions.FEW_MARKETS", few)
    monkeypatch.setattr("dashboard.views.decisions.LATELY", lately)
    html = staff_client.get(reverse("dashboard-decisions"), {"ticker": part}).content.decode()
    listed = [r for r in rows(html) if "No decisions match" not in r]
    assert len(listed) == expected and all(part.lower() in r.lower() for r in listed)
    assert ("No decisions match" in html) is (expected == 0)


def test_the_city_filter_goes_through_the_event(staff_client, ledger):
    otherville = City.objects.get(name="Otherville")
    html = staff_client.get(reverse("dashboard-decisions"), {"city": otherville.pk}).content.decode()
    assert all("KXHIGHTEST2" in r for r in rows(html)) and len(rows(html)) == 2


def test_a_city_without_decisions_lists_none(staff_client, ledger):
    quiet = CityFactory.create(name="Quietville")
    html = staff_client.get(reverse("dashboard-decisions"), {"city": quiet.pk}).content.decode()
    assert "No decisions match" in html


def test_the_cycle_filter(staff_client, ledger):
    cycle = TradingCycle.objects.get(as_of=at(3, 2, 15))
    html = staff_client.get(reverse("dashboard-decisions"), {"cycle": cycle.pk}).content.decode()
    assert len(rows(html)) == 1 and f"#{cycle.pk}" in html


def test_htmx_gets_the_table_alone_and_the_form_keeps_the_query_in_the_address(staff_client, ledger):
    page = staff_client.get(reverse("dashboard-decisions")).content.decode()
    assert 'hx-target="#decision-results"' in page and 'hx-push-url="true"' in page
    assert "City <select" in page and "Risk rule <select" in page and "[invalid name]" not in page
    part = staff_client.get(reverse("dashboard-decisions"), {"verdict": "refused"}, headers={"HX-Request": "true"})
    html = part.content.decode()
    assert "<html" not in html and "Page 1: 1 decision." in html


def test_pages_of_fifty_keep_the_filters(staff_client, ledger):
    cycle = TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 5, 15))
    DecisionLogEntry.objects.bulk_create(
        DecisionLogEntry(cycle=cycle, mode=MODE, at=at(3, 5, 15) + timedelta(seconds=n), strategy="model-taker",
                         event_ticker="KXHIGHTEST-25FEB28", ticker=f"KXHIGHTEST-25FEB28-X{n}",
                         verdict=DecisionLogEntry.Verdict.PASSED, reason="no edge")
        for n in range(60)
    )  # fmt: skip
    first = staff_client.get(reverse("dashboard-decisions"), {"verdict": "passed"}).content.decode()
    assert len(rows(first)) == 50 and "Page 1: 50 decisions, 50 a page" in first
    assert "verdict=passed&amp;page=2" in first and "← newer" not in first
    second = staff_client.get(reverse("dashboard-decisions"), {"verdict": "passed", "page": 2}).content.decode()
    assert len(rows(second)) == 10 and "Page 2: 10 decisions." in second
    assert "verdict=passed&amp;page=1" in second and "older →" not in second
    for nonsense in ("-3", "²", "9" * 23):  # the last would overflow the database's offset: no page, not a 500
        shown = staff_client.get(reverse("dashboard-decisions"), {"verdict": "passed", "page": nonsense})
        assert shown.status_code == 200 and "Page 1: 50 decisions" in shown.content.decode()


def test_a_bad_date_is_shown_not_a_500(staff_client, ledger):
    response = staff_client.get(reverse("dashboard-decisions"), {"since": "yesterday"})
    assert response.status_code == 200 and "Enter a valid date." in response.content.decode()


def test_the_page_costs_the_same_queries_for_more_decisions(staff_client, ledger, django_assert_max_num_queries):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("dashboard-decisions"), {"verdict": "passed", "city": 1})
        return len(captured.captured_queries)

    with django_assert_max_num_queries(6):  # session, user, banner; the cities, the page; the city asked for
        small = queries()
    cycle = TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 5, 15))
    DecisionLogEntry.objects.bulk_create(
        DecisionLogEntry(cycle=cycle, mode=MODE, at=at(3, 5, 15), strategy="model-taker",
                         event_ticker="KXHIGHTEST-25FEB28", ticker=f"KXHIGHTEST-25FEB28-X{n}",
                         verdict=DecisionLogEntry.Verdict.PASSED, reason="no edge")
        for n in range(40)
    )  # fmt: skip
    assert queries() == small
