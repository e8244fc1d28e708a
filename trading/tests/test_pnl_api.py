"""/api/pnl/: the P&L page's numbers for programs, money as exact strings, documented, a fixed number of queries."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trading.tests.ledgers import build_ledger, grow

pytestmark = pytest.mark.django_db
URL = "/api/pnl/"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the report is cached per ledger version; another test's ledger may look the same


@pytest.fixture
def ledger():
    return build_ledger()


@pytest.fixture
def viewer_client(client, django_user_model):
    """Staff who may read but not trade."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def test_totals_equity_and_drawdown(viewer_client, ledger):
    shown = viewer_client.get(URL).json()
    assert (shown["mode"], shown["day"], shown["cash"], shown["equity"]) == ("DRY", "UTC", "1000.49", "1000.49")
    assert shown["total"]["realised"] == "0.49" and shown["total"]["fees"] == "0.41"
    assert (shown["wins"], shown["losses"]) == (1, 2)
    assert shown["max_drawdown"] == {
        "amount": "0.96",
        "fraction": "0.000959",
        "peak": "2025-03-01",
        "trough": "2025-03-04",
    }
    assert shown["equity_curve"][0] == {"day": "2025-02-26", "equity": "1000.00"}
    assert shown["balances"] == []


def test_days_weeks_and_months(viewer_client, ledger):
    shown = viewer_client.get(URL).json()
    assert shown["daily"][2] == {
        "start": "2025-03-01", "period": "2025-03-01", "realised": "1.75", "trading": "0.27", "settled": "1.48",
        "fees": "0.05", "fills": 1, "settlements": 2,
    }  # fmt: skip
    assert [(w["period"], w["realised"]) for w in shown["weekly"]] == [("2025-W09", "1.45"), ("2025-W10", "-0.96")]
    assert [(m["period"], m["realised"]) for m in shown["monthly"]] == [("2025-02", "-0.30"), ("2025-03", "0.79")]


def test_by_city_and_strategy(viewer_client, ledger):
    shown = viewer_client.get(URL).json()
    assert [(c["name"], c["realised"], c["wins"], c["losses"]) for c in shown["by_city"]] == [
        ("Testville", "1.45", 1, 1),
        ("Otherville", "-0.96", 0, 1),
    ]
    assert [(s["name"], s["realised"]) for s in shown["by_strategy"]] == [
        ("model-taker", "2.59"),
        ("model-maker", "-2.10"),
    ]


def test_another_mode_is_asked_for_by_name_and_a_wrong_one_is_a_400(viewer_client, ledger):
    demo = viewer_client.get(URL, {"mode": "DEMO"}).json()
    assert (demo["mode"], demo["daily"], demo["total"]["realised"]) == ("DEMO", [], "0.00")
    wrong = viewer_client.get(URL, {"mode": "PAPER"})
    assert wrong.status_code == 400 and "mode" in wrong.json()["error"]["fields"]


def test_it_is_for_staff(client, django_user_model):
    assert client.get(URL).status_code == 401
    client.force_login(django_user_model.objects.create_user("someone", password="pw"))
    assert client.get(URL).status_code == 403


def test_it_is_read_only(viewer_client):
    assert viewer_client.post(URL, {}).status_code == 405


def test_it_is_in_the_schema_and_the_root(viewer_client):
    schema = viewer_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/pnl/"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Pnl")
    assert [p["name"] for p in operation["parameters"]] == ["mode"]
    assert "by_strategy" in schema["components"]["schemas"]["Pnl"]["properties"]
    assert viewer_client.get("/api/").json()["pnl"].endswith("/api/pnl/")


def test_it_costs_the_same_queries_for_more_days(viewer_client, ledger, django_assert_max_num_queries):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(URL).status_code == 200
        return len(captured.captured_queries)

    grow(2)
    with django_assert_max_num_queries(4 + 11 + 2):  # the ledger's version and the sums, the session and its user
        small = queries()
    grow(20, first=2)
    assert queries() == small
