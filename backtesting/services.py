"""Running a backtest on imported history: forecasts, replay, metrics, and the stored BacktestRun.

One run can replay several strategies, each with its own bankroll, under the
conservative fill model, and (unless asked not to) again under the naive
model, so the report can say how much a careless backtest would flatter.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from backtesting.engine import QUOTE_WINDOW, BacktestResult, BacktestSpec, label, run_backtest
from backtesting.fills import ConservativeFills, NaiveFills
from backtesting.forecasts import model_forecasts
from backtesting.history import load_history
from backtesting.metrics import SettledFill, calibration, settle_fills, summarise
from backtesting.models import BacktestRun, BacktestTrade
from backtesting.walkforward import Grid, walk_forward
from kalshiweb.progress import SILENT, Progress
from markets.models import Series
from prediction.cases import DecisionTime
from trading.limits import Limits, Sizing
from trading.strategies import strategy_named

logger = logging.getLogger(__name__)

DEFAULT_STRATEGY = "model-taker"


@dataclass(frozen=True)
class BacktestRequest:
    start: date
    end: date
    series: Sequence[Series]
    strategies: Sequence[str]
    decision_times: tuple[DecisionTime, ...]
    bankroll: Decimal
    limits: Limits
    sizing: Sizing = field(default_factory=Sizing)
    params: dict[str, Decimal] = field(default_factory=dict)  # strategy parameters (margin, threshold, ...)
    fill_window: timedelta = timedelta(minutes=15)
    quote_window: timedelta = QUOTE_WINDOW
    compare_naive: bool = True
    walk_forward: bool = False


@dataclass
class Backtested:
    report: dict[str, Any]  # the runbacktest JSON
    results: dict[str, BacktestResult]  # by strategy, under the conservative fills
    settled: list[SettledFill]  # every strategy's fills with their payouts


@dataclass
class BacktestOutcome:
    run: BacktestRun
    report: dict[str, Any]
    results: dict[str, BacktestResult]  # by strategy, under the conservative fills


def run_and_store(
    request: BacktestRequest, *, now: datetime, progress: Progress = SILENT, run: BacktestRun | None = None
) -> BacktestOutcome:
    """Run the request and store it as a BacktestRun with its trades; a failure is stored too, then raised.

    ``run`` is the pending run a task was given (backtesting.launch); without one, a new run is created.
    """
    fields = {
        "status": BacktestRun.Status.RUNNING,
        "start_date": request.start,
        "end_date": request.end,
        "series": [s.ticker for s in request.series],
        "strategy": ",".join(request.strategies),
        "fill_model": ConservativeFills.name,
        "params": parameters(request),
        "started_at": now,
    }
    if run is None:
        run = BacktestRun.objects.create(**fields)
    else:
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=list(fields))
    try:
        done = backtest(request, progress=progress)
    except Exception as exc:
        BacktestRun.objects.filter(pk=run.pk).update(status=BacktestRun.Status.FAILED, error=str(exc), finished_at=now)
        raise
    done.report["run_id"] = run.pk
    _store(run, done, now=now)
    return BacktestOutcome(run, done.report, done.results)


def backtest(request: BacktestRequest, *, progress: Progress = SILENT) -> Backtested:
    """The report of a request (the runbacktest JSON), each strategy's result and the settled fills."""
    forecasts = model_forecasts(
        series=request.series,
        start=request.start,
        end=request.end,
        decision_times=request.decision_times,
        progress=progress,
    )
    loaded = load_history(series=request.series, start=request.start, end=request.end, forecasts=forecasts.forecasts)
    days = _days(request.start, request.end)
    results, naive, settled, choices = {}, {}, [], {}
    for name in request.strategies:
        spec = _spec(request, name, ConservativeFills(window=request.fill_window))
        if request.walk_forward:
            chosen = walk_forward(loaded.history, spec, _grid(request, name), days=days, progress=progress)
            spec, choices[name] = chosen.spec, chosen.report
        results[name] = run_backtest(loaded.history, spec, progress=progress, title=name)
        settled.extend(settle_fills(results[name]))
        if request.compare_naive:
            naive_spec = replace(spec, fill_model=NaiveFills())
            naive_result = run_backtest(loaded.history, naive_spec, progress=progress, title=name)
            naive[name] = settle_fills(naive_result)
    bankroll = request.bankroll * len(request.strategies)
    decisions = [d for r in results.values() for d in r.decisions]
    report = summarise(
        settled, bankroll=bankroll, days=days, decisions=decisions, max_data_age=request.limits.max_data_age
    )
    if request.compare_naive:
        report["naive"] = _naive(naive, bankroll=request.bankroll, days=days)
    report["equity"] = {name: _curve(r) for name, r in results.items()}
    report["calibration"] = calibration(decisions, loaded.history)
    report["walk_forward"] = choices
    report["params"] = parameters(request) | {
        "forecasts": {"computed": forecasts.computed, "seconds": round(forecasts.seconds, 1)}
    }
    report["notes"] = loaded.notes + [f"unsettled at the end: {e}" for r in results.values() for e in r.unsettled]
    report["n_events"] = len(loaded.history.events)
    return Backtested(report, results, settled)


def _spec(request: BacktestRequest, name: str, fills: ConservativeFills | NaiveFills) -> BacktestSpec:
    strategy = strategy_named(name, sizing=request.sizing, **request.params)
    return BacktestSpec(
        decision_times=request.decision_times,
        bankroll=request.bankroll,
        limits=request.limits,
        fill_model=fills,
        strategy_for=lambda day, when: strategy,
        quote_window=request.quote_window,
    )


def _grid(request: BacktestRequest, name: str) -> Grid:
    return Grid.for_strategy(name, base=request.sizing, decision_times=request.decision_times, params=request.params)


def _naive(fills: dict[str, list[SettledFill]], *, bankroll: Decimal, days: list[date]) -> dict[str, Any]:
    everything = [f for group in fills.values() for f in group]
    summary = summarise(everything, bankroll=bankroll * max(1, len(fills)), days=days)
    keys = ("n_trades", "contracts", "pnl_dollars", "pnl_dollars_ci", "fees_dollars", "roi", "roi_ci", "win_rate")

    def kept(section: dict[str, Any]) -> dict[str, Any]:
        return {key: section[key] for key in keys}

    return {
        **kept(summary),
        "per_strategy": {
            name: kept(s) | {"per_series": {x: kept(v) for x, v in s["per_series"].items()}}
            for name, s in summary["per_strategy"].items()
        },
        "per_series": {name: kept(s) for name, s in summary["per_series"].items()},
    }


def _curve(result: BacktestResult) -> list[list[str]]:
    points = [[result.equity[0][0].isoformat(), str(result.spec.bankroll)]] if result.equity else []
    return points + [[moment.isoformat(), f"{value:.2f}"] for moment, value in result.equity]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def parameters(request: BacktestRequest) -> dict[str, Any]:
    return {
        "strategy": request.strategies[0] if len(request.strategies) == 1 else list(request.strategies),
        "strategies": list(request.strategies),
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "series": [s.ticker for s in request.series],
        "decision_times": [label(d) for d in request.decision_times],
        "bankroll": str(request.bankroll),
        "fill_model": ConservativeFills.name,
        "fill_window_minutes": request.fill_window.total_seconds() / 60,
        "quote_window_minutes": request.quote_window.total_seconds() / 60,
        "limits": {k: str(v) for k, v in asdict(request.limits).items()},
        "sizing": {k: str(v) for k, v in asdict(request.sizing).items()},
        "strategy_params": {k: str(v) for k, v in request.params.items()},
        "walk_forward": request.walk_forward,
        "compare_naive": request.compare_naive,
    }


def _store(run: BacktestRun, done: Backtested, *, now: datetime) -> None:
    trades = [_trade(run, settled) for settled in done.settled]
    with transaction.atomic():
        BacktestTrade.objects.bulk_create(trades, batch_size=1000)
        run.metrics = done.report
        run.equity_curve = _combined_curve(done.results)
        run.status = BacktestRun.Status.SUCCEEDED
        run.finished_at = now
        run.save(update_fields=["metrics", "equity_curve", "status", "finished_at"])


def _combined_curve(results: dict[str, BacktestResult]) -> list[list[str]]:
    """Every strategy's equity summed at each settlement (each strategy trades its own bankroll)."""
    moments = sorted({moment for r in results.values() for moment, _ in r.equity})
    curve = []
    for moment in moments:
        total = Decimal(0)
        for result in results.values():
            known = [value for at, value in result.equity if at <= moment]
            total += known[-1] if known else result.spec.bankroll
        curve.append([moment.isoformat(), f"{total:.2f}"])
    return curve


def _trade(run: BacktestRun, settled: SettledFill) -> BacktestTrade:
    fill = settled.fill
    return BacktestTrade(
        run=run,
        client_order_id=fill.client_order_id,
        strategy=fill.strategy,
        series_ticker=fill.series_ticker,
        event_ticker=fill.event_ticker,
        ticker=fill.ticker,
        side=fill.bought.value,
        count=fill.count,
        price=fill.price,
        fee=fill.fee,
        taker=fill.taker,
        decided_at=fill.decided_at,
        filled_at=fill.filled_at,
        probability=fill.probability,
        model_probability=settled.model_yes,
        market_probability=settled.market_yes,
        expected_value=fill.expected_value,
        payout=settled.payout,
        pnl=settled.pnl,
        reason=fill.reason[:2000],
    )
