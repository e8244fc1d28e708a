"""runbacktest on a small simulated New York (written by us): the stored run, the JSON contract, the HTML report."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backtesting.engine import label
from backtesting.history import load_history
from backtesting.models import BacktestRun, BacktestTrade, ForecastSet
from backtesting.services import BacktestRequest, backtest
from markets.models import Market, Series, Trade
from prediction.cases import DecisionTime
from prediction.tests.world import build_world, local
from trading.limits import Limits
from weather.models import ForecastSnapshot, Observation

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 24), date(2025, 2, 4)
TEN = DecisionTime(time(10))
CONTRACT = ("n_trades", "contracts", "pnl_dollars", "fees_dollars", "roi", "roi_ci", "pnl_dollars_ci", "sharpe",
            "max_drawdown", "win_rate", "brier_model", "brier_market", "log_loss_model", "log_loss_market",
            "coverage", "per_series", "params")  # fmt: skip


@pytest.fixture
def world():
    built = build_world(first_day=date(2024, 10, 20), first_event=date(2025, 1, 10), last_day=END)
    both_sides(built.series)
    return built


def both_sides(series: Series) -> None:
    """Prints on both sides around every decision: bids and asks to see, and takers to fill from."""
    trades = []
    for market in Market.objects.filter(event__series=series).select_related("event"):
        day, last = market.event.target_date, Trade.objects.filter(market=market).order_by("-created_time").first()
        assert day is not None and last is not None
        price = last.yes_price
        for n, (clock, side, shift) in enumerate(
            [
                (time(9, 50), "no", Decimal("-0.02")),
                (time(9, 55), "yes", Decimal("0.01")),
                (time(10, 5), "yes", Decimal("0.00")),
                (time(11), "no", Decimal("-0.05")),
            ]
        ):
            yes = min(Decimal("0.99"), max(Decimal("0.01"), price + shift))
            trades.append(
                Trade(
                    market=market,
                    trade_id=f"{market.ticker}-x{n}",
                    count=Decimal(20),
                    yes_price=yes,
                    no_price=1 - yes,
                    taker_side=side,
                    created_time=local(day, clock),
                )
            )
    Trade.objects.bulk_create(trades)


def run(*args: str) -> str:
    out = StringIO()
    call_command("runbacktest", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_backtest_is_stored_with_its_trades_and_writes_the_contracts_json_and_an_html_report(world, tmp_path):
    args = ["--start", str(START), "--end", str(END), "--decision-times", "10:00", "--strategy", "all"]
    out = run(*args, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(CONTRACT) <= set(report) and set(CONTRACT) - {"coverage", "per_series", "params"} <= set(
        report["per_series"]["KXHIGHNY"]
    )
    assert report["params"]["strategies"] == [
        "model-taker",
        "model-maker",
        "bracket-arb",
        "longshot-no",
        "longshot-yes",
    ]
    assert report["coverage"]["10:00"]["events"] == 12 and report["n_events"] == 12
    assert report["n_fills"] > 0 and "naive" in report
    run_row = BacktestRun.objects.get(pk=report["run_id"])
    assert run_row.status == BacktestRun.Status.SUCCEEDED and run_row.metrics["pnl_dollars"] == report["pnl_dollars"]
    assert BacktestTrade.objects.filter(run=run_row).count() == report["n_fills"]
    assert run_row.equity_curve and run_row.finished_at is not None
    page = (tmp_path / "r.html").read_text()
    assert page.count("<svg") == 3 and "BACKTEST" in page and "no order was sent" in page
    assert "BACKTEST" in out and "Stored as backtest run" in out
    # The second run reads the walk-forward forecasts from the store instead of computing them again.
    again = run(*args, "--json", str(tmp_path / "again.json"))
    assert json.loads((tmp_path / "again.json").read_text())["params"]["forecasts"]["computed"] == []
    assert ForecastSet.objects.count() == 1 and "BACKTEST" in again


def test_deleting_everything_after_a_decision_time_changes_no_decision_end_to_end(world):
    request = BacktestRequest(START, END, [world.series], ["model-taker"], (TEN,), Decimal(1000), Limits(),
                              compare_naive=False)  # fmt: skip
    results = backtest(request).results
    decisions = results["model-taker"].decisions
    cut = decisions[len(decisions) // 2].at
    Trade.objects.filter(created_time__gt=cut).delete()
    ForecastSnapshot.objects.filter(available_at__gt=cut).delete()
    Observation.objects.filter(date__gte=cut.date() - timedelta(days=1)).delete()
    Market.objects.filter(event__target_date__gte=cut.date() - timedelta(days=1)).update(result="", expiration_value="")
    again = backtest(request).results
    assert [d for d in again["model-taker"].decisions if d.at <= cut] == [d for d in decisions if d.at <= cut]


def test_the_loader_reads_tapes_exactly(world):
    loaded = load_history(series=[world.series], start=START, end=START)
    (event,) = loaded.history.events
    market = event.markets[0]
    rows = list(Trade.objects.filter(market__ticker=market.ticker).order_by("created_time", "trade_id"))
    assert len(market.tape.times) == len(rows)
    assert sorted(int(p) for p in market.tape.yes_prices) == sorted(int(r.yes_price * 1_000_000) for r in rows)
    assert event.settles_at == local(START + timedelta(days=1), time(9)) + timedelta(hours=0)  # 09:00 EST next day
    assert [label(TEN)] == ["10:00"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-02-04", "--end", "2025-01-24"], "--start 2025-02-04 is after --end 2025-01-24"),
        (
            ["--start", "2025-01-24", "--end", "2025-02-04", "--strategy", "yolo"],
            "unknown strategy 'yolo'; choose from model-taker",
        ),
        (["--start", "2025-01-24", "--end", "2025-02-04", "--limit", "max_fun=1"], "--limit takes NAME=VALUE"),
        (["--start", "2025-01-24", "--end", "2025-02-04", "--bankroll", "-5"], "must be a positive amount"),
        (["--start", "2025-01-24", "--end", "2025-02-04", "--series", "KXHIGHZZ"], "Unknown or city-less"),
        (["--start", "2030-01-01", "--end", "2030-01-02"], "No daily-high events between 2030-01-01"),
        (["--start", "2025-01-24", "--end", "2025-02-04", "--decision-times", "25:00"], "write times like 10:00"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(world, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("runbacktest", *args, stdout=StringIO(), stderr=StringIO())
