"""Replay parity: one recorded day through the live path (trading cycle, paper broker) and through the backtest
gives the same intents, to the client order id."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from backtesting.engine import BacktestSpec, run_backtest
from backtesting.fills import ConservativeFills
from backtesting.history import load_history
from backtesting.replay import replay
from backtesting.services import BacktestRequest, backtest
from prediction.cases import DecisionTime
from trading.brokers import PaperBroker
from trading.models import DecisionLogEntry, Order, RiskLimits
from trading.services import resume_trading
from trading.strategies import strategy_named
from trading.tests.world import DAY, NOW, World, build_world, trade

pytestmark = pytest.mark.django_db

D = Decimal
TEN = DecisionTime(time(10))  # 15:00 UTC in New York's winter: the world's NOW
TIMES = (DecisionTime(time(18), day_before=True), TEN, DecisionTime(time(14)))


def recorded_day(world: World) -> None:
    """A day of prints on both sides of every bracket, and the results Kalshi settled on."""
    start = NOW - timedelta(hours=20)
    quotes = {world.low: ("0.08", "0.12"), world.mid: ("0.38", "0.42"), world.high: ("0.48", "0.53")}
    n = 0
    for hour in range(26):
        at = start + timedelta(hours=hour, minutes=7)
        for market, (bid, ask) in quotes.items():
            drift = D(hour % 3) / 100
            trade(market, yes_price=str(D(ask) + drift), count="20", taker="yes", at=at, trade_id=f"p{n}")
            trade(market, yes_price=str(D(bid) + drift), count="20", taker="no", at=at + timedelta(minutes=3),
                  trade_id=f"p{n + 1}")  # fmt: skip
            n += 2
    for market, result in ((world.low, "no"), (world.mid, "yes"), (world.high, "no")):
        market.result = result
        market.settled_at = NOW + timedelta(hours=16)
        market.save()


@pytest.fixture
def world() -> World:
    world = build_world()
    recorded_day(world)
    RiskLimits.load()
    resume_trading(reason="replay", actor="test", now=NOW - timedelta(days=1))
    return world


def live_intents() -> list[tuple[str, str, str, Decimal, Decimal]]:
    return sorted(
        (o.client_order_id, o.ticker, o.book_side, o.price, o.count) for o in Order.objects.filter(mode="DRY")
    )


def backtest_intents(results: object) -> list[tuple[str, str, str, Decimal, Decimal]]:
    return sorted(
        (i.client_order_id, i.ticker, i.side.value, i.price, i.count)
        for d in results.decisions  # type: ignore[attr-defined]
        for i in d.intents
    )


@pytest.mark.parametrize("name", ["longshot-no", "longshot-yes"])
def test_a_replayed_day_makes_the_backtests_intents_with_the_strategies_that_need_no_model(world, name):
    request = BacktestRequest(
        start=DAY, end=DAY, series=[world.event.series], strategies=[name], decision_times=(TEN,),
        bankroll=D(1000), limits=RiskLimits.load().limits(), compare_naive=False,
    )  # fmt: skip
    tested = backtest(request)  # what manage.py runbacktest runs
    history = load_history(series=[world.event.series], start=DAY, end=DAY).history
    cycles = replay(history, broker=PaperBroker(), strategy=strategy_named(name), decision_times=(TEN,))
    assert [c.outcome for c in cycles] == ["done"], [c.detail for c in cycles]
    expected = backtest_intents(tested.results[name])
    assert expected, f"{name} should have found a longshot to buy"
    assert live_intents() == expected
    assert DecisionLogEntry.objects.filter(cycle__in=cycles).count() == 3  # every market of the event, logged


def test_a_replayed_day_makes_the_backtests_intents_with_the_model_at_every_decision_time(world):
    forecasts = {
        (world.event.event_ticker, label): {world.low.ticker: 0.1, world.mid.ticker: p, world.high.ticker: 0.9 - p}
        for label, p in (("18:00-1", 0.70), ("10:00", 0.75), ("14:00", 0.80))
    }
    history = load_history(series=[world.event.series], start=DAY, end=DAY, forecasts=forecasts).history
    strategy = strategy_named("model-taker", sizing=RiskLimits.load().sizing())
    spec = BacktestSpec(
        decision_times=TIMES, bankroll=D(1000), limits=RiskLimits.load().limits(), fill_model=ConservativeFills(),
        strategy_for=lambda day, when: strategy,
    )  # fmt: skip
    result = run_backtest(history, spec)  # the engine runbacktest drives, with these forecasts
    cycles = replay(history, broker=PaperBroker(), strategy=strategy, decision_times=TIMES)
    assert [c.outcome for c in cycles] == ["done"] * 3, [c.detail for c in cycles]
    expected = backtest_intents(result)
    assert expected, "the model should have found something to buy"
    assert live_intents() == expected
