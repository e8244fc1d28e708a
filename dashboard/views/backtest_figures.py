"""What the backtest pages show of a finished run: its stored report laid out for people, and chart data.

Nothing here computes a metric again: the numbers are the run's stored report
(backtesting.services.backtest) in the terminal report's formats
(backtesting.report), and the plots are the report's own series (equity per
strategy, the reliability of model and market, P&L per series). Two things
are derived for plotting only: drawdown (each equity point below its running
peak, as the HTML report draws it) and the trades' reliability, binned by
prediction.scoring's reliability_table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from backtesting.models import BacktestRun, BacktestTrade
from backtesting.report import cents, dollars, interval, number, percent, short_dollars
from markets.models import Series
from prediction.scoring import reliability_table

ONE = Decimal(1)


@dataclass(frozen=True)
class MetricsRow:
    name: str
    cells: tuple[str, ...]
    total: bool = False


METRIC_COLUMNS = ("Orders", "Contracts", "P&L", "P&L 95% CI", "ROI", "Fees", "Won", "Sharpe", "Max drawdown",
                  "CLV", "Brier model", "Brier market")  # fmt: skip


def metric_cells(section: dict[str, Any]) -> tuple[str, ...]:
    """One report section (overall, a strategy, a series) as the cells of METRIC_COLUMNS."""
    win = section.get("win_rate")
    return (
        f"{section.get('n_trades', 0):,}",
        f"{section.get('contracts', 0):,.0f}",
        dollars(section.get("pnl_dollars")),
        interval(section.get("pnl_dollars_ci"), short_dollars),
        percent(section.get("roi")),
        dollars(section.get("fees_dollars")),
        "n/a" if win is None else f"{win * 100:.0f}%",
        number(section.get("sharpe")),
        dollars(section.get("max_drawdown")),
        cents(section.get("clv_per_contract")),
        number(section.get("brier_model"), 4),
        number(section.get("brier_market"), 4),
    )


def metrics_rows(report: dict[str, Any]) -> list[MetricsRow]:
    """A row per strategy run (one that never filled reads as no orders), and one for all of them together."""
    traded = report.get("per_strategy", {})
    strategies = report.get("params", {}).get("strategies") or list(traded)
    rows = [MetricsRow(name, metric_cells(traded.get(name, {}))) for name in strategies]
    if len(strategies) != 1:
        rows.append(MetricsRow("All strategies", metric_cells(report), total=True))
    return rows


def city_rows(report: dict[str, Any], names: dict[str, str]) -> list[MetricsRow]:
    """A row per city (its series, every strategy together)."""
    return [MetricsRow(names.get(t, t), metric_cells(section)) for t, section in report.get("per_series", {}).items()]


def city_names(runs: Iterable[BacktestRun]) -> dict[str, str]:
    """Series ticker → "New York (KXHIGHNY)", for every series the runs traded (one query)."""
    tickers = {t for run in runs for t in (run.series or [])} | {
        t for run in runs for t in run.metrics.get("per_series", {})
    }
    found = Series.objects.filter(ticker__in=tickers).select_related("city")
    names = {s.ticker: f"{s.city.name} ({s.ticker})" if s.city else s.ticker for s in found}
    return {t: names.get(t, t) for t in sorted(tickers)}


def _daily(curve: Sequence[Sequence[str]]) -> dict[str, Decimal]:
    """The last equity of each UTC day of a curve of [ISO time, dollars] points."""
    days: dict[str, Decimal] = {}
    for moment, value in curve:
        days[datetime.fromisoformat(moment).date().isoformat()] = Decimal(value)
    return days


def _aligned(curves: dict[str, Sequence[Sequence[str]]]) -> tuple[list[str], dict[str, list[Decimal | None]]]:
    """Every curve on the union of their days, each carried forward from its last known value."""
    daily = {name: _daily(curve) for name, curve in curves.items()}
    days = sorted({day for values in daily.values() for day in values})
    aligned: dict[str, list[Decimal | None]] = {}
    for name, values in daily.items():
        last: Decimal | None = None
        series: list[Decimal | None] = []
        for day in days:
            last = values.get(day, last)
            series.append(last)
        aligned[name] = series
    return days, aligned


def _drawdown(values: list[Decimal | None]) -> list[Decimal | None]:
    peak: Decimal | None = None
    drawn: list[Decimal | None] = []
    for value in values:
        if value is None:
            drawn.append(None)
            continue
        peak = value if peak is None else max(peak, value)
        drawn.append(value - peak)
    return drawn


def equity_charts(curves: dict[str, Sequence[Sequence[str]]]) -> dict[str, Any]:
    """Equity and drawdown, one dataset per curve, on shared day labels (Chart.js category axis)."""
    days, aligned = _aligned(curves)

    def datasets(values: dict[str, list[Decimal | None]]) -> list[dict[str, Any]]:
        return [
            {"label": name, "data": [None if v is None else str(v) for v in series]} for name, series in values.items()
        ]

    return {
        "equity": {"labels": days, "datasets": datasets(aligned)},
        "drawdown": {"labels": days, "datasets": datasets({n: _drawdown(v) for n, v in aligned.items()})},
    }


def reliability_points(bins: Iterable[dict[str, Any]]) -> list[dict[str, float]]:
    """Non-empty reliability bins as {x: mean predicted, y: observed frequency, n: count}."""
    return [
        {"x": round(b["mean_predicted"], 4), "y": round(b["observed_frequency"], 4), "n": b["count"]}
        for b in bins
        if b.get("count")
    ]


def trades_reliability(runs: Sequence[BacktestRun]) -> dict[int, list[dict[str, float]]]:
    """Per run: the probability each fill was sized on against whether the side bought paid (one query)."""
    rows = BacktestTrade.objects.filter(run__in=runs, probability__isnull=False, payout__isnull=False).values_list(
        "run_id", "probability", "payout"
    )
    pairs: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for run, p, payout in rows:
        if p is not None and 0.0 <= p <= 1.0:
            pairs[run].append((p, int(payout == ONE)))
    return {
        run.pk: reliability_points(
            asdict(b) for b in reliability_table([[p for p, _ in found]], [[o for _, o in found]])
        )
        if (found := pairs.get(run.pk))
        else []
        for run in runs
    }


def city_pnl(sections: dict[str, dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """P&L after fees per city: ``sections`` maps a dataset label to its report section with per_series."""
    tickers = sorted({t for section in sections.values() for t in section.get("per_series", {})})
    return {
        "labels": [names.get(t, t) for t in tickers],
        "datasets": [
            {
                "label": label,
                "data": [section.get("per_series", {}).get(t, {}).get("pnl_dollars") for t in tickers],
            }
            for label, section in sections.items()
        ],
    }


def run_charts(run: BacktestRun, names: dict[str, str]) -> dict[str, Any]:
    """The detail page's charts: per strategy, and model, market and the trades' calibration."""
    report = run.metrics
    calibration = report.get("calibration", {})
    return {
        **equity_charts(report.get("equity", {})),
        "calibration": [
            {"label": "Model (every decision)", "data": reliability_points(calibration.get("model", []))},
            {"label": "Market (every decision)", "data": reliability_points(calibration.get("market", []))},
            {"label": "Our fills (probability sized on)", "data": trades_reliability([run])[run.pk]},
        ],
        "cities": city_pnl(report.get("per_strategy", {}), names),
    }


def compare_charts(runs: Sequence[BacktestRun], names: dict[str, str]) -> dict[str, Any]:
    """The compare page's charts: one dataset per run (its strategies together)."""
    labels = {run.pk: f"Run {run.pk}: {run.strategy or 'model-taker'}" for run in runs}
    fills = trades_reliability(runs)
    calibration = []
    for run in runs:
        stored = run.metrics.get("calibration", {})
        calibration += [
            {"label": f"{labels[run.pk]} · model", "data": reliability_points(stored.get("model", []))},
            {"label": f"{labels[run.pk]} · market", "data": reliability_points(stored.get("market", []))},
            {"label": f"{labels[run.pk]} · our fills", "data": fills[run.pk]},
        ]
    return {
        **equity_charts({labels[run.pk]: run.equity_curve for run in runs}),
        "calibration": calibration,
        "cities": city_pnl({labels[run.pk]: run.metrics for run in runs}, names),
    }


def compare_table(runs: Sequence[BacktestRun]) -> list[tuple[str, list[str]]]:
    """Metric name → each run's value, side by side (the overall section of each report)."""
    cells = {run.pk: dict(zip(METRIC_COLUMNS, metric_cells(run.metrics), strict=True)) for run in runs}
    rows: list[tuple[str, list[str]]] = [
        ("Period", [f"{run.start_date} to {run.end_date}" for run in runs]),
        ("Strategies", [run.strategy.replace(",", ", ") for run in runs]),
        ("Bankroll per strategy", [dollars(float(run.params.get("bankroll", 0))) for run in runs]),
        ("Events", [f"{run.metrics.get('n_events', 0):,}" for run in runs]),
    ]
    rows += [(column, [cells[run.pk][column] for run in runs]) for column in METRIC_COLUMNS]
    return rows
