"""The backtest pages: start one from the form, follow it, read its results, compare runs side by side."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from backtesting.models import BacktestRun, BacktestTrade
from backtesting.report import dollars, number
from backtesting.tests.test_runbacktest import both_sides
from prediction.tests.world import build_world
from trading.models import RiskLimits

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 24), date(2025, 1, 30)
NOW = datetime(2025, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def viewer(client, django_user_model):
    """Staff who may look but not start backtests."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def section(pnl: float, brier: float) -> dict[str, Any]:
    return {"n_trades": 12, "contracts": 40.0, "pnl_dollars": pnl, "pnl_dollars_ci": [pnl - 20, pnl + 20],
            "roi": pnl / 400, "fees_dollars": 3.1, "win_rate": 0.5833, "sharpe": 1.234, "max_drawdown": 8.5,
            "clv_per_contract": 0.012, "brier_model": brier, "brier_market": 0.19871}  # fmt: skip


def bins(shift: float) -> list[dict[str, Any]]:
    return [{"lower": k / 10, "upper": (k + 1) / 10, "count": 5, "mean_predicted": k / 10 + 0.05,
             "observed_frequency": min(1.0, k / 10 + shift)} for k in range(10)]  # fmt: skip


def finished_run(pnl: float, *, trades: int = 3) -> BacktestRun:
    """A succeeded run whose stored report has the shape backtesting.services stores."""
    strategy = section(pnl, 0.18234)
    report = {**section(pnl, 0.18234), "n_events": 21, "n_scored_markets": 30,
              "per_strategy": {"model-taker": {**strategy, "per_series": {"KXHIGHNY": strategy}}},
              "per_series": {"KXHIGHNY": strategy},
              "equity": {"model-taker": [["2025-01-24T15:00:00+00:00", "1000"],
                                         ["2025-01-25T15:00:00+00:00", "1020.00"],
                                         ["2025-01-26T15:00:00+00:00", "1011.50"]]},
              "calibration": {"n_events": 21, "model": bins(0.02), "market": bins(-0.01)}}  # fmt: skip
    run = BacktestRun.objects.create(
        status=BacktestRun.Status.SUCCEEDED, start_date=START, end_date=END, series=["KXHIGHNY"],
        strategy="model-taker", fill_model="conservative", params={"bankroll": "1000"}, metrics=report,
        equity_curve=report["equity"]["model-taker"][1:], started_at=NOW, finished_at=NOW,
        progress_done=5, progress_total=5, progress_message="Finished: 3 fills over 21 events",
    )  # fmt: skip
    BacktestTrade.objects.bulk_create(
        BacktestTrade(run=run, client_order_id=f"bt-{n}", strategy="model-taker", series_ticker="KXHIGHNY",
                      event_ticker="E", ticker=f"E-{n}", side="yes", count=Decimal(2), price=Decimal("0.40"),
                      fee=Decimal("0.02"), taker=True, decided_at=NOW, filled_at=NOW, probability=0.45 + n / 100,
                      payout=Decimal(n % 2), pnl=Decimal("0.5"))
        for n in range(trades)
    )  # fmt: skip
    return run


def charts(html: str) -> dict[str, Any]:
    return json.loads(html.split('id="backtest-charts" type="application/json">')[1].split("</script>")[0])


def test_an_operator_starts_a_backtest_from_the_form_and_reads_its_results(
    staff_client, django_capture_on_commit_callbacks
):
    world = build_world(first_day=date(2024, 10, 20), first_event=date(2025, 1, 10), last_day=END)
    both_sides(world.series)
    form = staff_client.get(reverse("dashboard-backtests")).content.decode()
    assert "Start backtest" in form and 'name="series" value="KXHIGHNY"' in form
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_client.post(reverse("dashboard-backtests"), {
            "start_date": START, "end_date": END, "series": ["KXHIGHNY"], "strategies": ["model-taker", "longshot-yes"],
            "decision_times": "10:00", "bankroll": "800", "fill_window_minutes": "15", "quote_window_minutes": "60",
            "min_edge": "", "kelly_fraction": "", "margin": "", "compare_naive": "true", "limits.max_price": "0.97",
            "limits.max_daily_loss": "",
        })  # fmt: skip
    run = BacktestRun.objects.get()
    limits = run.params["limits"]
    assert Decimal(limits["max_price"]) == Decimal("0.97") and Decimal(limits["max_daily_loss"]) == Decimal(50)
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard-backtest-detail", args=[run.pk])
    html = staff_client.get(answer["Location"]).content.decode()
    assert "data-backtest-status" in html and ">Succeeded</span>" in html
    report = run.metrics
    metrics = html.split('id="backtest-metrics"')[1].split("</table>")[0]
    assert report["per_strategy"], "the world's prints should have filled some orders"
    for name in ("model-taker", "longshot-yes"):  # a strategy that never filled reads as no orders
        row = metrics.split(f"<td>{name}</td>")[1].split("</tr>")[0]
        traded = report["per_strategy"].get(name, {"n_trades": 0, "pnl_dollars": None, "brier_model": None})
        assert dollars(traded["pnl_dollars"]) in row and number(traded["brier_model"], 4) in row
        assert f"<td>{traded['n_trades']:,}</td>" in row
    assert dollars(report["pnl_dollars"]) in metrics.split("All strategies")[1]
    assert "Bankroll $800.00 per strategy" in html and "New York (KXHIGHNY)" in html
    drawn = charts(html)
    assert drawn["equity"]["labels"][0] >= "2025-01-24" and {d["label"] for d in drawn["equity"]["datasets"]} == set(
        report["equity"]
    )
    assert drawn["cities"]["labels"] == ["New York (KXHIGHNY)"]
    assert [d["label"] for d in drawn["calibration"]][:2] == ["Model (every decision)", "Market (every decision)"]


def test_a_bad_form_names_the_field_and_keeps_what_was_typed(staff_client):
    answer = staff_client.post(reverse("dashboard-backtests"), {"start_date": END, "end_date": START, "bankroll": "0"})
    html = answer.content.decode()
    assert answer.status_code == 400 and BacktestRun.objects.count() == 0
    assert "Last day: The end date must not be before the start date." in html or "Bankroll: " in html
    assert "Bankroll: Ensure this value is greater than or equal to 1." in html
    assert f'value="{END}"' in html
    answer = staff_client.post(reverse("dashboard-backtests"), {"start_date": START, "end_date": END,
                                                                "limits.max_price": "abc"})  # fmt: skip
    assert "Risk limits: max_price: A valid number is required." in answer.content.decode()


def test_staff_without_the_permission_see_runs_but_no_form(viewer):
    finished_run(12.5)
    html = viewer.get(reverse("dashboard-backtests")).content.decode()
    assert "Start backtest" not in html and "Succeeded" in html
    assert viewer.post(reverse("dashboard-backtests"), {"start_date": START, "end_date": END}).status_code == 403


def test_a_running_run_shows_its_progress_and_its_fragment_reloads_the_page_when_done(staff_client):
    run = BacktestRun.objects.create(
        status=BacktestRun.Status.RUNNING, start_date=START, end_date=END, progress_done=30, progress_total=120,
        progress_message="KXHIGHNY 10:00: walking forward", started_at=NOW,
    )  # fmt: skip
    html = staff_client.get(reverse("dashboard-backtest-detail", args=[run.pk])).content.decode()
    assert ">Running</span>" in html and 'max="120" value="30"' in html and "30 of 120" in html
    assert "live-backtest-progress" in html and 'id="backtest-metrics"' not in html
    fragment = staff_client.get(reverse("dashboard-backtest-progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert "HX-Refresh" not in fragment and "walking forward" in fragment.content.decode()
    BacktestRun.objects.filter(pk=run.pk).update(status=BacktestRun.Status.FAILED, error="no forecasts")
    fragment = staff_client.get(reverse("dashboard-backtest-progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert fragment["HX-Refresh"] == "true" and ">Failed</span>" in fragment.content.decode()
    assert staff_client.get(reverse("dashboard-backtest-detail", args=[run.pk + 1])).status_code == 404


def test_runs_are_compared_side_by_side(staff_client):
    first, second = finished_run(12.5), finished_run(-40.25)
    answer = staff_client.get(reverse("dashboard-backtest-compare"), {"run": [first.pk, second.pk]})
    html = answer.content.decode()
    table = html.split('id="backtest-compare"')[1].split("</table>")[0]
    assert "$12.50" in table and "-$40.25" in table and "0.1823" in table and "+3.1%" in table
    drawn = charts(html)
    assert [d["label"] for d in drawn["equity"]["datasets"]] == [
        f"Run {first.pk}: model-taker",
        f"Run {second.pk}: model-taker",
    ]
    assert drawn["equity"]["labels"] == ["2025-01-25", "2025-01-26"]
    assert drawn["drawdown"]["datasets"][0]["data"] == ["0.00", "-8.50"]
    assert drawn["cities"]["datasets"][1]["data"] == [-40.25] and len(drawn["calibration"]) == 6


def test_compare_without_a_choice_offers_the_succeeded_runs(staff_client):
    kept = finished_run(1.0)
    BacktestRun.objects.filter(pk=finished_run(2.0).pk).update(status=BacktestRun.Status.FAILED)
    answer = staff_client.get(reverse("dashboard-backtest-compare"))
    choices = answer.content.decode().split('id="backtest-choices"')[1].split("</table>")[0]
    assert answer.status_code == 200 and choices.count('name="run"') == 1 and f'value="{kept.pk}"' in choices


@pytest.mark.parametrize("choice", ["one", "five", "failed"])
def test_compare_refuses_what_it_cannot_compare(staff_client, choice):
    runs = [finished_run(1.0) for _ in range(5)]
    ids = {"one": [runs[0].pk], "five": [r.pk for r in runs], "failed": [runs[0].pk, runs[1].pk]}[choice]
    if choice == "failed":
        BacktestRun.objects.filter(pk=runs[1].pk).update(status=BacktestRun.Status.FAILED)
    answer = staff_client.get(reverse("dashboard-backtest-compare"), {"run": ids})
    assert answer.status_code == 400 and ("Choose 2 to 4 runs" in answer.content.decode() or choice == "failed")


@pytest.mark.parametrize("size", [2, 4])
def test_the_pages_take_fixed_queries(staff_client, django_assert_num_queries, size):
    runs = [finished_run(10.0 * n, trades=size) for n in range(size)]
    RiskLimits.load()  # the singleton exists in every installation: not created by the page under test
    # session, user, the page's rows, the banner's trading state (+ the form's series and risk limits on the list)
    with django_assert_num_queries(6):
        assert staff_client.get(reverse("dashboard-backtests")).status_code == 200
    with django_assert_num_queries(6):  # ... the run, the series' cities, the trades' calibration
        assert staff_client.get(reverse("dashboard-backtest-detail", args=[runs[0].pk])).status_code == 200
    with django_assert_num_queries(6):  # ... the runs, the series' cities, their trades' calibration
        answer = staff_client.get(reverse("dashboard-backtest-compare"), {"run": [r.pk for r in runs]})
    assert answer.status_code == 200
