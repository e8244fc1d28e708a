"""The trading pipeline as beat runs it: the schedule, the tasks, halting's cancels and a LIVE start."""

from __future__ import annotations

import importlib
import io
import logging
import types
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from celery.signals import worker_ready
from django.core.management import CommandError, call_command
from django.test import override_settings

from kalshiweb.schedule import periodic_tasks
from markets.errors import ExchangeUnavailable
from markets.models import Market
from markets.tests.factories import MarketFactory
from trading import tasks
from trading.accounting import account_for
from trading.models import (
    Account,
    Order,
    Position,
    Reconciliation,
    Settlement,
    TradingCycle,
    TradingState,
    TradingStateChange,
)
from trading.services import STARTUP_ACTOR, STARTUP_REASON, halt_trading, on_process_start, resume_trading
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 2, 20, 16, tzinfo=UTC)


class TestSchedule:
    def test_the_pipeline_runs_in_order_once_each(self):
        names = [spec.name for spec in periodic_tasks()]
        pipeline = ["sync markets", "fetch forecasts", "predict", "trading cycle", "settle", "reconcile", "train model"]
        assert [n for n in names if n in pipeline] == pipeline
        assert len(names) == len(set(names))

    def test_every_task_it_names_exists(self):
        for spec in periodic_tasks():
            module, name = spec.task.rsplit(".", 1)
            assert callable(getattr(importlib.import_module(module), name)), spec.task
            assert spec.description

    @override_settings(TRADING_CYCLE_SECONDS=90)
    def test_the_cycle_runs_every_trading_cycle_seconds(self):
        by_name = {spec.name: spec for spec in periodic_tasks()}
        assert by_name["trading cycle"].every_seconds == 90
        assert by_name["trading cycle"].task == "trading.tasks.trading_cycle_task"
        assert by_name["reconcile"].every_seconds == 10 * 60
        assert by_name["settle"].task == "trading.tasks.settle_task"


def resting(mode: str = "DRY", **kwargs: object) -> Order:
    account_for(mode)
    return OrderFactory.create(
        mode=mode, status=Order.Status.RESTING, exchange_order_id="x-1", submitted_at=NOW, **kwargs
    )


class TestHaltingCancelsWorkingOrders:
    def test_a_halt_cancels_the_modes_resting_and_queued_orders(self, django_capture_on_commit_callbacks):
        resume_trading(reason="go", actor="alice", now=NOW)
        first, second = resting(), resting()
        queued = OrderFactory.create(status=Order.Status.AWAITING_APPROVAL)
        done = OrderFactory.create(status=Order.Status.EXECUTED, remaining_count=0)
        demo = resting("DEMO")
        with django_capture_on_commit_callbacks(execute=True):
            halt_trading(reason="CLI report late", actor="alice", now=NOW)
        for order in (first, second, queued):
            order.refresh_from_db()
            assert order.status == Order.Status.CANCELED
            assert order.remaining_count == 0
            assert "trading halted: CLI report late" in order.reason
        done.refresh_from_db()
        demo.refresh_from_db()
        assert done.status == Order.Status.EXECUTED
        assert demo.status == Order.Status.RESTING  # another mode's orders are not this process's to cancel

    def test_nothing_is_cancelled_when_the_halt_rolls_back(self, django_capture_on_commit_callbacks):
        from django.db import transaction

        order = resting()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            halt_trading(reason="test", actor="bob", now=NOW)
            raise RuntimeError("later step failed")
        order.refresh_from_db()
        assert order.status == Order.Status.RESTING

    @override_settings(TRADING_MODE="LIVE", LIVE_TRADING_ARMED=False)
    def test_an_unavailable_broker_is_logged_and_the_halt_stands(self, django_capture_on_commit_callbacks, caplog):
        order = resting("LIVE")
        with caplog.at_level(logging.ERROR, "trading.services"), django_capture_on_commit_callbacks(execute=True):
            halt_trading(reason="operator", actor="alice", now=NOW)
        assert TradingState.load().state == TradingState.State.HALTED
        order.refresh_from_db()
        assert order.status == Order.Status.RESTING
        assert "could not be cancelled" in caplog.text
        assert "LIVE_TRADING_ARMED is not set" in caplog.text

    def test_the_command_halts_and_cancels(self, django_capture_on_commit_callbacks):
        order = resting()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("tradingstate", "halt", reason="maintenance")
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELED
        assert "maintenance" in order.reason


class TestLiveStartsHalted:
    @override_settings(TRADING_MODE="LIVE")
    def test_a_live_process_halts_trading_at_start(self, django_capture_on_commit_callbacks):
        resume_trading(reason="reviewed", actor="alice", now=NOW)
        with django_capture_on_commit_callbacks(execute=True):
            state = on_process_start(now=NOW)
        assert state is not None
        state = TradingState.load()
        assert (state.state, state.changed_by, state.reason) == ("halted", STARTUP_ACTOR, STARTUP_REASON)
        assert TradingStateChange.objects.latest("pk").actor == "system:startup"

    @override_settings(TRADING_MODE="LIVE")
    def test_an_already_halted_live_process_is_left_alone(self):
        halt_trading(reason="by hand", actor="alice", now=NOW)
        assert on_process_start(now=NOW) is None
        assert TradingState.load().reason == "by hand"
        assert TradingStateChange.objects.count() == 1

    @pytest.mark.parametrize("mode", ["DRY", "DEMO"])
    def test_other_modes_keep_their_state(self, mode):
        resume_trading(reason="reviewed", actor="alice", now=NOW)
        with override_settings(TRADING_MODE=mode):
            assert on_process_start(now=NOW) is None
        assert TradingState.load().state == TradingState.State.ACTIVE

    @override_settings(TRADING_MODE="LIVE")
    def test_a_worker_coming_up_runs_it(self):
        resume_trading(reason="reviewed", actor="alice", now=NOW)
        import kalshiweb.celery  # noqa: F401  (connects the receiver)

        worker_ready.send(sender=None)
        assert TradingState.load().changed_by == STARTUP_ACTOR


class TestTradingCycleTask:
    def test_it_runs_one_cycle_of_the_configured_mode(self):
        outcome = tasks.trading_cycle_task()
        cycle = TradingCycle.objects.get()
        assert cycle.mode == "DRY"
        assert outcome == cycle.outcome
        assert cycle.finished_at is not None

    @override_settings(TRADING_MODE="LIVE", LIVE_TRADING_ARMED=False)
    def test_a_mode_that_may_not_trade_is_a_warning_not_a_retry(self, caplog):
        with caplog.at_level(logging.WARNING, "trading.tasks"):
            assert tasks.trading_cycle_task() is None
        assert not TradingCycle.objects.exists()
        assert "No trading cycle in LIVE: LIVE trading refused: LIVE_TRADING_ARMED is not set" in caplog.text
        assert not getattr(tasks.trading_cycle_task, "autoretry_for", ())


def position(ticker: str, market: Market | None, mode: str = "DRY", yes: int = 5) -> Position:
    return Position.objects.create(
        mode=mode, ticker=ticker, market=market, yes_count=yes, total_cost=Decimal("2.00"), updated_at=NOW
    )


class TestSettleTask:
    def test_paper_positions_of_settled_markets_are_paid(self):
        won = MarketFactory.create(result=Market.Result.YES, settled_at=NOW)
        lost = MarketFactory.create(result=Market.Result.NO, settled_at=NOW)
        open_market = MarketFactory.create()
        position(won.ticker, won)
        position(lost.ticker, lost)
        position(open_market.ticker, open_market)
        position(won.ticker, won, mode="DEMO")
        cash = account_for("DRY").cash
        assert tasks.settle_task() == 2
        won_settlement = Settlement.objects.get(ticker=won.ticker)
        assert (won_settlement.mode, won_settlement.revenue, won_settlement.settled_time) == ("DRY", 5, NOW)
        assert Settlement.objects.get(ticker=lost.ticker).revenue == 0
        assert Account.objects.get(mode="DRY").cash == cash + 5
        assert not Position.objects.get(mode="DRY", ticker=open_market.ticker).settled
        assert not Position.objects.get(mode="DEMO").settled  # DEMO settles from the exchange
        assert tasks.settle_task() == 0  # idempotent
        assert Settlement.objects.count() == 2

    @override_settings(TRADING_MODE="DEMO")
    def test_demo_settles_in_reconciliation_not_here(self):
        won = MarketFactory.create(result=Market.Result.YES, settled_at=NOW)
        position(won.ticker, won, mode="DEMO")
        assert tasks.settle_task() == 0
        assert not Settlement.objects.exists()


class TestReconcileTask:
    @pytest.fixture
    def fake_reconcile(self, monkeypatch):
        calls: list[dict[str, object]] = []

        def reconcile(client, *, mode, now):
            calls.append({"client": client, "mode": mode, "now": now})
            return types.SimpleNamespace(complete=True)

        monkeypatch.setattr(tasks, "reconcile", reconcile)
        return calls

    def test_dry_checks_the_paper_ledger_against_itself(self, fake_reconcile):
        assert tasks.reconcile_task() is True
        assert fake_reconcile == []  # no exchange to ask
        assert Reconciliation.objects.get().mode == "DRY"

    @override_settings(TRADING_MODE="DEMO")
    def test_demo_reconciles_with_a_client_it_closes(self, fake_reconcile, monkeypatch):
        client = mock.MagicMock()
        monkeypatch.setattr("markets.connection.kalshi_client", lambda **kwargs: client)
        assert tasks.reconcile_task() is True
        [call] = fake_reconcile
        assert call["mode"] == "DEMO"
        assert call["client"] is client.__enter__.return_value
        client.__exit__.assert_called_once()

    def test_only_transient_errors_are_retried(self):
        retried = getattr(tasks.reconcile_task, "autoretry_for", ())
        assert ExchangeUnavailable in retried
        assert Exception not in retried


class TestTradeCycleCommand:
    def test_it_runs_one_cycle_and_summarises_it(self):
        out = io.StringIO()
        call_command("tradecycle", "--once", stdout=out)
        cycle = TradingCycle.objects.get()
        text = out.getvalue()
        assert f"Trading cycle [DRY] {cycle.strategy} at " in text
        assert text.splitlines()[0].endswith(f": {cycle.outcome}")
        assert f"events {cycle.events}, markets {cycle.markets}, intents {cycle.intents}" in text
        assert f"placed {cycle.placed}, queued for approval {cycle.queued}, cancelled {cycle.cancelled}" in text

    @override_settings(TRADING_MODE="LIVE", LIVE_TRADING_ARMED=False)
    def test_a_mode_that_may_not_trade_says_why_and_exits_1(self):
        with pytest.raises(CommandError) as refused:
            call_command("tradecycle")
        assert refused.value.returncode == 1  # manage.py prints the message to stderr and exits with it
        assert str(refused.value).startswith("No trading cycle in LIVE: LIVE trading refused: LIVE_TRADING_ARMED")
        assert not TradingCycle.objects.exists()
