"""A backtest started like the dashboard and the API start one: a real run on a small simulated New York."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from backtesting.launch import BacktestStartSerializer, request_for, start_backtest
from backtesting.models import BacktestRun, BacktestTrade
from backtesting.tasks import MIN_INTERVAL, RunProgress, run_backtest_task
from backtesting.tests.test_runbacktest import both_sides
from prediction.tests.world import build_world

pytestmark = pytest.mark.django_db

START, END = date(2025, 1, 24), date(2025, 1, 30)


@pytest.fixture
def world():
    built = build_world(first_day=date(2024, 10, 20), first_event=date(2025, 1, 10), last_day=END)
    both_sides(built.series)
    return built


def started(django_capture_on_commit_callbacks, **fields) -> BacktestRun:
    """Validate, store and enqueue as the page and the API do; the eager task runs when the start commits."""
    given = BacktestStartSerializer(data={"start_date": START, "end_date": END, "decision_times": "10:00", **fields})
    assert given.is_valid(), given.errors
    with django_capture_on_commit_callbacks(execute=True):
        run = start_backtest(given.to_request(), requested_by="operator")
    run.refresh_from_db()
    return run


def test_a_started_backtest_runs_stores_its_results_and_broadcasts_its_progress_in_order(
    world, django_capture_on_commit_callbacks, captured_broadcasts
):
    run = started(django_capture_on_commit_callbacks, strategies=["model-taker", "longshot-yes"], bankroll="500")
    assert run.status == BacktestRun.Status.SUCCEEDED, run.error
    assert run.requested_by == "operator" and run.strategy == "model-taker,longshot-yes"
    assert run.params["bankroll"] == "500.00" and run.params["decision_times"] == ["10:00"]
    assert set(run.metrics["per_strategy"]) <= {"model-taker", "longshot-yes"} and run.metrics["n_events"] == 7
    assert BacktestTrade.objects.filter(run=run).count() == run.metrics["n_fills"] > 0
    assert run.equity_curve and run.started_at is not None and run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.progress_message.startswith("Finished: ") and run.progress_done == run.progress_total > 0
    events = [e for e in captured_broadcasts if e["type"] == "backtest.progress"]
    assert {e["run"] for e in events} == {run.pk}
    assert [e["status"] for e in events][-1] == "succeeded"
    assert all(e["status"] == "running" for e in events[:-1]) and len(events) >= 2
    assert events[0]["message"] == "Starting" and events[-1]["message"] == run.progress_message
    assert all(set(e) == {"type", "run", "status", "done", "total", "message"} for e in events)


def test_events_reach_the_channel_layer_once_and_in_order(world, django_capture_on_commit_callbacks):
    """Through the configured layer (in memory, or Redis in CI's second pass), as a dashboard socket in the
    ``backtests`` group receives them."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("backtests", channel)

    async def drain() -> list[dict[str, Any]]:
        # One event loop for every receive: the Redis layer's receive buffer belongs to the loop it began on.
        received: list[dict[str, Any]] = []
        while not received or received[-1]["status"] != "succeeded":
            received.append(await asyncio.wait_for(layer.receive(channel), timeout=30))
        return received

    try:
        run = started(django_capture_on_commit_callbacks, strategies=["longshot-no"], compare_naive=False)
        received = async_to_sync(drain)()
    finally:
        async_to_sync(layer.group_discard)("backtests", channel)
    assert [m["run"] for m in received] == [run.pk] * len(received)
    assert [m["status"] for m in received] == ["running"] * (len(received) - 1) + ["succeeded"]
    assert received[-1]["message"] == run.progress_message


def test_a_failing_backtest_is_stored_as_failed_with_its_error(
    world, django_capture_on_commit_callbacks, captured_broadcasts, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("the forecast store is unreadable")

    monkeypatch.setattr("backtesting.services.model_forecasts", broken)
    run = started(django_capture_on_commit_callbacks)
    assert run.status == BacktestRun.Status.FAILED and run.error == "the forecast store is unreadable"
    assert run.finished_at is not None and run.progress_message == "Failed: the forecast store is unreadable"
    assert captured_broadcasts[-1]["status"] == "failed" and captured_broadcasts[-1]["run"] == run.pk


def test_a_run_is_claimed_once(world, django_capture_on_commit_callbacks):
    run = started(django_capture_on_commit_callbacks, strategies=["longshot-no"], compare_naive=False)
    assert run_backtest_task(run.pk) == "skipped"
    assert BacktestRun.objects.get(pk=run.pk).status == BacktestRun.Status.SUCCEEDED


def test_the_stored_request_is_the_request_started(world):
    given = BacktestStartSerializer(
        data={"start_date": START, "end_date": END, "strategies": ["model-maker"], "margin": "0.02",
              "min_edge": "0.05", "fill_window_minutes": 20, "walk_forward": True}
    )  # fmt: skip
    assert given.is_valid(), given.errors
    request = given.to_request()
    run = start_backtest(request, requested_by="operator")
    rebuilt = request_for(run)
    assert rebuilt == request
    assert rebuilt.sizing.min_edge == Decimal("0.05") and rebuilt.params == {"margin": Decimal("0.02")}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_written_at_most_twice_a_second(
    captured_broadcasts, django_assert_num_queries, django_capture_on_commit_callbacks
):
    run = BacktestRun.objects.create(start_date=START, end_date=END, status=BacktestRun.Status.RUNNING)
    clock = Clock()
    progress = RunProgress(run, clock=clock)
    with django_assert_num_queries(2), django_capture_on_commit_callbacks(execute=True):
        progress.stage("walking forward", total=1000)
        for _ in range(999):
            progress.advance()
        clock.now += MIN_INTERVAL
        progress.advance()
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total, run.progress_message) == (1000, 1000, "walking forward")
    assert [(e["done"], e["total"]) for e in captured_broadcasts] == [(0, 1000), (1000, 1000)]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start_date": END, "end_date": START}, "end_date", "must not be before"),
        ({"start_date": START, "end_date": END, "series": ["KXHIGHZZ"]}, "series", "KXHIGHZZ"),
        ({"start_date": START, "end_date": END, "strategies": ["yolo"]}, "strategies", "not a valid choice"),
        ({"start_date": START, "end_date": END, "decision_times": "25:00"}, "decision_times", "write times like"),
        ({"start_date": START, "end_date": END, "bankroll": "0"}, "bankroll", "greater than or equal to 1"),
        ({"start_date": "2030-01-01", "end_date": "2030-01-02"}, "series", "No daily-high events"),
        ({"end_date": END}, "start_date", "required"),
    ],
)
def test_bad_requests_name_the_field(world, fields, field, message):
    given = BacktestStartSerializer(data=fields)
    assert not given.is_valid()
    assert message in str(given.errors[field])
