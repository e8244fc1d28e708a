from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trading.models import DecisionLogEntry, Difference, Fill, Position, Reconciliation, RiskLimits, TradingCycle
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
AT = datetime(2025, 2, 27, 12, tzinfo=UTC)
SERIAL = itertools.count()


@pytest.fixture
def viewer_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def test_staff_read_the_risk_limits_with_money_as_strings(viewer_client):
    shown = viewer_client.get("/api/trading/risk-limits/").json()
    assert shown["max_order_cost"] == "10.00" and shown["min_price"] == "0.05"


def test_staff_without_the_permission_cannot_change_limits_or_trading(viewer_client):
    refused = viewer_client.patch(
        "/api/trading/risk-limits/", {"max_order_cost": "20"}, content_type="application/json"
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert viewer_client.post("/api/trading/state/", {"state": "active", "reason": "x"}).status_code == 403
    assert RiskLimits.load().max_order_cost == Decimal(10)


def test_an_operator_changes_limits_and_trading(client, django_user_model):
    operator = django_user_model.objects.create_user("op", password="pw", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="change_tradingstate"))
    client.force_login(operator)
    changed = client.patch("/api/trading/risk-limits/", {"max_order_cost": "20.5"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["max_order_cost"] == "20.50"
    assert changed.json()["updated_by"] == "op"
    assert client.post("/api/trading/state/", {"state": "active", "reason": "go"}).status_code == 200


def test_invalid_limits_are_400_with_the_fields(staff_client):
    response = staff_client.patch("/api/trading/risk-limits/", {"max_order_cost": "x"}, content_type="application/json")
    assert response.status_code == 400
    assert "max_order_cost" in response.json()["error"]["fields"]


def _cycle() -> TradingCycle:
    return TradingCycle.objects.create(mode="DRY", strategy="edge", as_of=AT + timedelta(minutes=next(SERIAL)))


def _decision(cycle: TradingCycle, ticker: str, verdict: str, hour: int = 12) -> DecisionLogEntry:
    return DecisionLogEntry.objects.create(
        cycle=cycle,
        mode="DRY",
        at=AT.replace(hour=hour),
        strategy="edge",
        event_ticker="E",
        ticker=ticker,
        verdict=verdict,
    )


def test_the_decision_log_filters_by_verdict_ticker_and_time(staff_client):
    cycle = _cycle()
    _decision(cycle, "A", "ordered", hour=10)
    _decision(cycle, "B", "refused", hour=14)

    def tickers(**given: str) -> list[str]:
        return [d["ticker"] for d in staff_client.get("/api/decisions/", given).json()["results"]]

    assert tickers(verdict="refused") == ["B"]
    assert tickers(ticker="A") == ["A"]
    assert tickers(at_before="2025-02-27T12:00:00Z") == ["A"]
    assert tickers(mode="LIVE") == []


def test_the_decision_log_filters_by_strategy_and_a_strategy_that_never_ran_has_none(staff_client):
    _decision(_cycle(), "A", "passed")

    def tickers(**given: str) -> list[str]:
        return [d["ticker"] for d in staff_client.get("/api/decisions/", given).json()["results"]]

    assert tickers(strategy="edge") == ["A"] and tickers(strategy="edge", mode="DRY") == ["A"]
    assert tickers(strategy="edge", mode="LIVE") == []
    with CaptureQueriesContext(connection) as read:
        assert tickers(strategy="never-ran") == []
    assert not [q["sql"] for q in read.captured_queries if "trading_decisionlogentry" in q["sql"]]  # the cycles say so


def test_a_verdict_alone_finds_it_in_every_mode(staff_client):
    _decision(_cycle(), "A", "refused")
    live = TradingCycle.objects.create(mode="LIVE", strategy="edge", as_of=AT)
    DecisionLogEntry.objects.create(
        cycle=live, mode="LIVE", at=AT, strategy="edge", event_ticker="E", ticker="B", verdict="refused"
    )
    shown = staff_client.get("/api/decisions/", {"verdict": "refused"}).json()["results"]
    assert sorted((d["mode"], d["ticker"]) for d in shown) == [("DRY", "A"), ("LIVE", "B")]


def test_the_decision_log_pages_by_cursor_newest_first_without_a_count(staff_client):
    early, late = _cycle(), _cycle()
    for ticker in ["C", "A", "B"]:
        _decision(late, ticker, "passed", hour=14)  # one cycle's decisions share a time: by ticker within it
    _decision(early, "D", "passed", hour=10)
    first = staff_client.get("/api/decisions/", {"page_size": 2}).json()
    assert "count" not in first and first["previous"] is None
    second = staff_client.get(first["next"]).json()
    assert [d["ticker"] for d in first["results"] + second["results"]] == ["A", "B", "C", "D"]
    assert second["next"] is None and staff_client.get(second["previous"]).json()["results"] == first["results"]


def test_a_made_up_decision_cursor_is_404(staff_client):
    response = staff_client.get("/api/decisions/", {"cursor": "x"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_orders_filter_and_page(staff_client):
    OrderFactory.create_batch(3)
    OrderFactory.create(status="canceled")
    assert staff_client.get("/api/orders/", {"status": "canceled"}).json()["count"] == 1
    page = staff_client.get("/api/orders/", {"page_size": 3}).json()
    assert page["count"] == 4 and len(page["results"]) == 3 and page["results"][0]["price"] == "0.40"


def _rows(n: int) -> None:
    cycle = _cycle()
    reconciliation = Reconciliation.objects.create(mode="DRY", started_at=AT)
    for _ in range(n):
        order = OrderFactory.create()
        Fill.objects.create(
            trade_id=f"t-{order.pk}", mode="DRY", order=order, ticker=order.ticker, book_side="bid",
            price=Decimal("0.4"), count=Decimal(1), is_taker=True, created_time=AT, recorded_at=AT,
        )  # fmt: skip
        Position.objects.create(mode="DRY", ticker=order.ticker, updated_at=AT)
        _decision(cycle, order.ticker, "ordered")
        Difference.objects.create(reconciliation=reconciliation, kind="position", ticker=order.ticker, fix="x")
        Reconciliation.objects.create(mode="DRY", started_at=AT)
        _cycle()


@pytest.mark.parametrize(
    "path",
    ["/api/orders/", "/api/fills/", "/api/positions/", "/api/decisions/", "/api/cycles/", "/api/reconciliations/"],
)
def test_each_list_costs_the_same_queries_for_3_or_30_rows(staff_client, path):
    def queries(n: int) -> int:
        _rows(n)
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(path, {"page_size": 500}).status_code == 200
        return len(ctx.captured_queries)

    assert queries(3) == queries(27)


def test_reconciliations_carry_their_differences(staff_client):
    _rows(2)
    found = [r["found"] for r in staff_client.get("/api/reconciliations/").json()["results"]]
    assert sorted(len(f) for f in found)[-1] == 2
