"""The whole shared-data backtest: five series, three decision times a day, one strategy.

Full size imports ../shared/data (not timed), then times what a backtest does
after its model forecasts exist (they are computed once and stored, see
backtesting.forecasts, so training is not part of this): reading every event,
bracket and trade tape, replaying the model-taker strategy through the
decision and risk code with conservative fills, and the metrics. The walk-
forward forecasts cost minutes to compute and only their values, not their
cost, change the replay; here the market's own normalised price, nudged
toward the winner by a deterministic amount, stands in for them, so the
strategy has edges to size and orders to fill. Quick size replays a generated
history in memory.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from backtesting.engine import BacktestSpec, History, decision_moments, event_view, run_backtest
from backtesting.fills import ConservativeFills
from backtesting.history import load_history
from backtesting.metrics import settle_fills, summarise
from backtesting.tape import to_micros
from benchmarks import SHARED_DATA_DIR, Figure
from kalshiweb.history import import_history
from markets.models import Event, Series, Trade
from prediction.cases import DecisionTime
from trading.limits import Limits
from trading.strategies import strategy_named

TIMES = (DecisionTime(time(18), day_before=True), DecisionTime(time(10)), DecisionTime(time(14)))
START, END = date(2024, 8, 1), date(2025, 2, 28)


def run(*, quick: bool) -> list[Figure]:
    if quick or not SHARED_DATA_DIR.is_dir():
        from backtesting.tests.worlds import random_history

        history = random_history(11, days=40, decision_times=TIMES)
        return _replay(history, days=40, note="generated history" if quick else f"no data at {SHARED_DATA_DIR}")
    started = clock.perf_counter()
    import_history(SHARED_DATA_DIR, now=datetime(2026, 12, 1, tzinfo=UTC))
    imported = clock.perf_counter() - started
    try:
        series = list(Series.objects.filter(city__isnull=False, events__isnull=False).distinct())
        began = clock.perf_counter()
        loaded = load_history(series=series, start=START, end=END)
        loading = clock.perf_counter() - began
        history = History(loaded.history.events, stand_in_forecasts(loaded.history))
        figures = _replay(history, days=(END - START).days + 1, note=f"{len(series)} series, {START}..{END}")
    finally:
        Trade.objects.all().delete()
        Event.objects.all().delete()
    whole = loading + figures[2].value
    return [Figure("import of the shared history (not timed below)", imported, "s"),
            Figure("reading events, brackets and tapes", loading, "s",
                   f"{sum(len(m.tape.times) for e in history.events for m in e.markets):,} prints"),
            Figure("whole backtest after import", whole, "s", "reading + replay + metrics; goal: under 5 s"),
            *figures]  # fmt: skip


def stand_in_forecasts(history: History) -> dict[tuple[str, str], tuple[float, ...]]:
    """Per event and decision: the market's normalised price, a tenth of the way to the result (a speed stand-in)."""
    forecasts = {}
    for event in history.events:
        outcome = [float(m.payout or 0) for m in event.markets]
        for moment, name in decision_moments(event, TIMES):
            market = [m.market_probability or 0.0 for m in event_view(event, name, moment, History(())).markets]
            blended = [0.9 * p + 0.1 * y for p, y in zip(market, outcome, strict=True)]
            total = sum(blended) or 1.0
            forecasts[(event.event_ticker, name)] = tuple(p / total for p in blended)
    return forecasts


def _replay(history: History, *, days: int, note: str) -> list[Figure]:
    strategy = strategy_named("model-taker")
    spec = BacktestSpec(TIMES, Decimal(1000), Limits(), ConservativeFills(), strategy_for=lambda day, name: strategy)
    started = clock.perf_counter()
    result = run_backtest(history, spec)
    replay = clock.perf_counter() - started
    began = clock.perf_counter()
    first = min(e.target_date for e in history.events)
    settled = settle_fills(result)
    summarise(settled, bankroll=spec.bankroll, days=[first + timedelta(days=n) for n in range(days)],
              decisions=result.decisions, max_data_age=spec.limits.max_data_age)  # fmt: skip
    metrics = clock.perf_counter() - began
    lookups = _lookups(history)
    return [
        Figure("replay (decide, risk, conservative fills)", replay, "s", f"model-taker; {note}"),
        Figure("metrics with bootstrap intervals", metrics, "s"),
        Figure("replay + metrics", replay + metrics, "s"),
        Figure("events", len(history.events), "events"),
        Figure("decisions", len(result.decisions), "event decisions", f"{len(TIMES)} decision times a day"),
        Figure("fills", max(len(result.fills), 1), "fills", f"{len(settled)} settled"),
        Figure("price look-ups per second", lookups[0] / lookups[1], "look-ups/s", f"{lookups[0]:,} quotes from tapes"),
    ]


def _lookups(history: History) -> tuple[int, float]:
    """Every market's quote at every decision time, timed apart from the rest of the replay."""
    moments = [(e, name, to_micros(m)) for e in history.events for m, name in decision_moments(e, TIMES)]
    started = clock.perf_counter()
    count = 0
    for event, _, at in moments:
        for market in event.markets:
            market.tape.yes.last_index(at)
            market.tape.no.last_index(at)
            market.tape.last_yes_price(at)
            count += 1
    return count, max(clock.perf_counter() - started, 1e-9)
