"""The backtest API: start a run (operators), follow it, read its results and trades, with meaningful codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from backtesting.launch import request_for
from backtesting.models import BacktestRun, BacktestTrade
from markets.models import Series
from prediction.tests.world import new_york
from trading.models import RiskLimits

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def series() -> Series:
    return Series.objects.create(ticker="KXHIGHTS", city=new_york(), measure=Series.Measure.HIGH)


@pytest.fixture
def operator(django_user_model) -> APIClient:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("ops", password="pw"))
    return client


@pytest.fixture
def viewer(django_user_model) -> APIClient:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def finished_run(n_trades: int) -> BacktestRun:
    run = BacktestRun.objects.create(
        status=BacktestRun.Status.SUCCEEDED, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31),
        series=["KXHIGHNY"], strategy="model-taker", fill_model="conservative",
        metrics={"pnl_dollars": 12.5, "roi": 0.031, "brier_model": 0.18234, "per_strategy": {}},
        equity_curve=[["2025-01-02T15:00:00+00:00", "1000.00"], ["2025-01-03T15:00:00+00:00", "1012.50"]],
        progress_done=10, progress_total=10, progress_message="Finished", started_at=NOW, finished_at=NOW,
    )  # fmt: skip
    BacktestTrade.objects.bulk_create(
        BacktestTrade(
            run=run, client_order_id=f"bt-{n}", strategy="model-taker", series_ticker="KXHIGHNY",
            event_ticker="KXHIGHNY-25JAN02", ticker="KXHIGHNY-25JAN02-B40.5", side="yes", count=Decimal(3),
            price=Decimal("0.42"), fee=Decimal("0.05"), taker=True, decided_at=NOW, filled_at=NOW,
            probability=0.5, payout=Decimal(1), pnl=Decimal("1.69"),
        )
        for n in range(n_trades)
    )  # fmt: skip
    return run


def start_body(**fields: Any) -> dict[str, Any]:
    return {"start_date": "2025-01-24", "end_date": "2025-01-30", "series": ["KXHIGHTS"],
            "strategies": ["model-taker", "bracket-arb"], "bankroll": "250", **fields}  # fmt: skip


def test_an_operator_starts_a_backtest_and_is_told_where_to_follow_it(
    operator, series, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued: list[int] = []
    monkeypatch.setattr("backtesting.tasks.run_backtest_task.delay", enqueued.append)
    with django_capture_on_commit_callbacks(execute=True):
        answer = operator.post(reverse("api-backtest-list"), start_body(), format="json")
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    run = BacktestRun.objects.get()
    assert enqueued == [run.pk]
    assert answer["Location"] == body["url"] and body["url"].endswith(f"/api/backtests/{run.pk}/")
    assert body["status"] == "pending" and body["requested_by"] == "ops"
    assert body["progress"] == {"done": 0, "total": 0, "message": "Waiting for a worker", "percent": 0}
    assert body["params"]["strategies"] == ["model-taker", "bracket-arb"] and body["params"]["bankroll"] == "250.00"
    assert body["params"]["series"] == ["KXHIGHTS"] and body["params"]["limits"]["max_order_contracts"]


def test_a_run_may_override_some_risk_limits(operator, series):
    body = start_body(limits={"max_price": "0.99", "max_data_age": "30"})
    answer = operator.post(reverse("api-backtest-list"), body, format="json")
    assert answer.status_code == 202, answer.json()
    limits = answer.json()["params"]["limits"]
    assert Decimal(limits["max_price"]) == Decimal("0.99") and limits["max_data_age"] == "0:30:00"
    assert Decimal(limits["min_price"]) == RiskLimits.load().min_price  # the operators' current limit, unchanged
    assert request_for(BacktestRun.objects.get()).limits.max_data_age == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"limits": {"max_fun": "1"}}, "limits"),
        ({"limits": {"min_price": "0.99"}}, "limits"),
        ({"end_date": "2025-01-01"}, "end_date"),
        ({"series": ["KXHIGHZZ"]}, "series"),
        ({"strategies": ["yolo"]}, "strategies"),
        ({"bankroll": "-5"}, "bankroll"),
        ({"decision_times": "noon"}, "decision_times"),
    ],
)
def test_a_bad_start_is_a_400_naming_the_field(operator, series, fields, field):
    answer = operator.post(reverse("api-backtest-list"), start_body(**fields), format="json")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [field]
    assert BacktestRun.objects.count() == 0


def test_staff_without_the_permission_may_read_but_not_start(viewer, series, django_user_model):
    assert viewer.get(reverse("api-backtest-list")).status_code == 200
    answer = viewer.post(reverse("api-backtest-list"), start_body(), format="json")
    assert answer.status_code == 403 and "permission" in answer.json()["error"]["message"]
    user = django_user_model.objects.get(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="add_backtestrun"))
    client = APIClient()
    client.force_authenticate(django_user_model.objects.get(pk=user.pk))
    assert client.post(reverse("api-backtest-list"), start_body(), format="json").status_code == 202


def test_anonymous_requests_are_refused(series):
    assert APIClient().get(reverse("api-backtest-list")).status_code == 401


def test_a_run_is_followed_by_its_status_and_progress(operator):
    run = BacktestRun.objects.create(
        status=BacktestRun.Status.RUNNING, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31),
        progress_done=30, progress_total=120, progress_message="KXHIGHNY 10:00: walking forward",
    )  # fmt: skip
    body = operator.get(reverse("api-backtest-detail", args=[run.pk])).json()
    assert body["status"] == "running"
    assert body["progress"] == {"done": 30, "total": 120, "message": "KXHIGHNY 10:00: walking forward", "percent": 25}
    answer = operator.get(reverse("api-backtest-results", args=[run.pk]))
    assert answer.status_code == 409 and answer.json()["error"]["message"] == (
        f"Run {run.pk} is running; it has no results yet."
    )
    assert operator.get(reverse("api-backtest-detail", args=[run.pk + 1])).status_code == 404
    assert operator.get(reverse("api-backtest-results", args=[run.pk + 1])).status_code == 404


def test_results_are_the_stored_report_and_trades_come_in_pages(operator):
    run = finished_run(5)
    body = operator.get(reverse("api-backtest-results", args=[run.pk])).json()
    assert body["metrics"]["pnl_dollars"] == 12.5 and body["metrics"]["brier_model"] == 0.18234
    assert body["equity_curve"] == [
        {"at": "2025-01-02T15:00:00+00:00", "equity": "1000.00"},
        {"at": "2025-01-03T15:00:00+00:00", "equity": "1012.50"},
    ]
    trades = operator.get(body["trades"], {"page_size": 2}).json()
    assert trades["count"] == 5 and len(trades["results"]) == 2 and trades["next"]
    first = trades["results"][0]
    assert (first["price"], first["fee"], first["pnl"], first["count"]) == ("0.42", "0.05", "1.69", "3.00")


@pytest.mark.parametrize("size", [1, 6])
def test_lists_take_fixed_queries(operator, django_assert_num_queries, size):
    runs = [finished_run(size) for _ in range(size)]
    with django_assert_num_queries(2):  # count, page
        body = operator.get(reverse("api-backtest-list")).json()
    assert body["count"] == size and "metrics" not in body["results"][0]
    with django_assert_num_queries(3):  # the run, the count, the page
        operator.get(reverse("api-backtest-trades", args=[runs[0].pk]))
    assert operator.get(reverse("api-backtest-list"), {"status": "failed"}).json()["count"] == 0


def test_a_run_the_broker_cannot_take_fails_saying_so(
    operator, series, django_capture_on_commit_callbacks, monkeypatch
):
    def down(run_id: int) -> None:
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("backtesting.tasks.run_backtest_task.delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        answer = operator.post(reverse("api-backtest-list"), start_body(), format="json")
    assert answer.status_code == 202
    run = BacktestRun.objects.get()
    assert run.status == BacktestRun.Status.FAILED and "Connection refused" in run.error
