"""The control on the real Kalshi history in ../shared/data: buying cheap YES blindly loses after fees."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from backtesting.engine import BacktestSpec, run_backtest
from backtesting.fills import ConservativeFills
from backtesting.history import load_history
from backtesting.metrics import settle_fills, summarise
from markets.history.importer import import_kalshi_history
from markets.models import Series
from prediction.cases import DecisionTime
from trading.limits import Limits
from trading.strategies import CONTROL, strategy_named

pytestmark = [pytest.mark.shared_data, pytest.mark.slow, pytest.mark.django_db]

TIMES = (DecisionTime(time(18), day_before=True), DecisionTime(time(10)), DecisionTime(time(14)))
START, END = date(2024, 8, 16), date(2025, 2, 28)


def test_the_control_strategy_loses_money_after_fees_on_all_the_shared_data(shared_data_dir):
    import_kalshi_history(shared_data_dir, now=datetime(2026, 12, 1, tzinfo=UTC))
    series = list(Series.objects.filter(city__isnull=False, events__isnull=False).distinct())
    history = load_history(series=series, start=START, end=END).history
    assert len(history.events) > 900 and sum(len(m.tape.times) for e in history.events for m in e.markets) > 990_000
    control = strategy_named(CONTROL)
    spec = BacktestSpec(TIMES, Decimal(1000), Limits(), ConservativeFills(), strategy_for=lambda day, name: control)
    result = run_backtest(history, spec)
    days = [date.fromordinal(n) for n in range(START.toordinal(), END.toordinal() + 1)]
    summary = summarise(settle_fills(result), bankroll=spec.bankroll, days=days)
    assert summary["n_trades"] > 300 and summary["fees_dollars"] > 0
    assert summary["pnl_dollars"] < 0, summary
