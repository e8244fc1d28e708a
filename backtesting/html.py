"""The HTML backtest report: one self-contained page with the summary tables and plots.

Plots are drawn with matplotlib and embedded as SVG, so the page needs no
network and no other file: equity and drawdown per strategy, calibration of
the model and of the market, and P&L by city and strategy.
"""

from __future__ import annotations

import html
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from backtesting.report import (
    cents,
    decision_times,
    dollars,
    interval,
    number,
    percent,
    risk_lines,
    short_dollars,
    short_percent,
    verdict,
)

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1320px; color: #1d2733; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d8dee6; padding-bottom: .2rem; }
.mode { display: inline-block; background: #334155; color: #fff; padding: .15rem .6rem; border-radius: 4px;
        font-weight: 700; letter-spacing: .05em; }
.verdict { font-size: 1.1rem; font-weight: 600; background: #f1f5f9; padding: .8rem 1rem; border-radius: 6px; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: .6rem 0; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: .3rem .45rem; border-bottom: 1px solid #e5e9ef; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.total td { font-weight: 700; } .good { color: #15803d; font-weight: 600; } .bad { color: #b91c1c; }
.muted { color: #64748b; } figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
"""


def write_html(report: dict[str, Any], results: object, path: Path) -> None:
    """Write the report of a run (the runbacktest JSON) to ``path`` as one HTML page."""
    path.write_text(render(report), encoding="utf-8")


def render(report: dict[str, Any]) -> str:
    params = report["params"]
    title = f"Backtest {params['start']} to {params['end']}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        '<p><span class="mode">BACKTEST</span> replayed history; no order was sent. '
        f"Strategies: {html.escape(', '.join(params['strategies']))}. "
        f"Series: {html.escape(', '.join(params['series']))}. "
        f"Decisions at {html.escape(', '.join(decision_times(params['decision_times'])))} (local time). "
        f"Bankroll {dollars(float(params['bankroll']))} per strategy. "
        f"{html.escape(params['fill_model'].capitalize())} fills, "
        f"{params['fill_window_minutes']:.0f}-minute taker window; a price is a print of the last "
        f"{params['quote_window_minutes']:.0f} minutes.</p>",
        f'<p class="verdict">{html.escape(verdict(report))}</p>',
        "<h2>Results after fees</h2>",
        _results_table(report),
        '<p class="muted">Intervals are 95% bootstrap intervals resampling whole climate days. CLV: the closing '
        "price minus the price paid, per contract. Naive: every order filled in full at the last trade before the "
        "decision; shown only to measure how much such a backtest flatters.</p>",
        "<h2>Equity and drawdown</h2>",
        _figure(_equity_plot(report)),
        "<h2>Calibration: model and market</h2>",
        _calibration_text(report),
        _figure(_calibration_plot(report)),
        "<h2>P&amp;L by city and strategy</h2>",
        _figure(_pnl_plot(report)),
    ]
    if report.get("walk_forward"):
        sections += ["<h2>Walk-forward parameter choice</h2>", _walk_forward_table(report["walk_forward"])]
    sections += ["<h2>Data at each decision time</h2>", _coverage_table(report.get("coverage", {}))]
    if report.get("risk"):
        items = "".join(f"<li>{html.escape(line)}</li>" for line in risk_lines(report))
        sections += [f"<h2>What the risk limits refused</h2><ul>{items}</ul>"]
    if report.get("notes"):
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in report["notes"][:200])
        sections += [f"<h2>Notes ({len(report['notes'])})</h2><ul class='muted'>{notes}</ul>"]
    body = "\n".join(sections)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _results_table(report: dict[str, Any]) -> str:
    head = ("strategy", "series", "trades", "contracts", "P&L", "95% CI ($)", "ROI", "95% CI", "fees", "won",
            "Sharpe", "max DD", "CLV", "naive P&L", "naive ROI")  # fmt: skip
    naive = report.get("naive", {})
    rows = []
    for strategy, section in report.get("per_strategy", {}).items():
        naive_strategy = naive.get("per_strategy", {}).get(strategy, {})
        rows.append(_row(strategy, "all", section, naive_strategy, "total"))
        for series, by_series in section.get("per_series", {}).items():
            rows.append(_row("", series, by_series, naive_strategy.get("per_series", {}).get(series), ""))
    if len(report.get("per_strategy", {})) > 1:
        rows.append(_row("all", "all", report, naive or None, "total"))
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<div class='wide'><table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _row(strategy: str, series: str, section: dict[str, Any], naive: dict[str, Any] | None, css: str) -> str:
    low, high = (section.get("pnl_dollars_ci") or [None, None])[:2]
    tone = "good" if low is not None and low > 0 else "bad" if high is not None and high < 0 else ""
    cells = [
        html.escape(strategy),
        html.escape(series),
        f"{section.get('n_trades', 0):,}",
        f"{section.get('contracts', 0):,.0f}",
        f"<span class='{tone}'>{dollars(section.get('pnl_dollars'))}</span>",
        interval(section.get("pnl_dollars_ci"), short_dollars),
        percent(section.get("roi")),
        interval(section.get("roi_ci"), short_percent),
        dollars(section.get("fees_dollars")),
        "n/a" if section.get("win_rate") is None else f"{section['win_rate'] * 100:.0f}%",
        number(section.get("sharpe")),
        dollars(section.get("max_drawdown")),
        cents(section.get("clv_per_contract")),
        dollars(naive.get("pnl_dollars")) if naive else "",
        percent(naive.get("roi")) if naive else "",
    ]
    return f"<tr class='{css}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _figure(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return f"<figure>{svg[svg.index('<svg') :]}</figure>"


def _equity_plot(report: dict[str, Any]) -> Figure:
    figure, (equity, drawdown) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, height_ratios=(2, 1))
    for name, curve in report.get("equity", {}).items():
        if not curve:
            continue
        times = [datetime.fromisoformat(t) for t, _ in curve]
        values = [float(v) for _, v in curve]
        peaks = [max(values[: i + 1]) for i in range(len(values))]
        equity.step(times, values, where="post", label=name)
        drawdown.step(times, [v - p for v, p in zip(values, peaks, strict=True)], where="post", label=name)
    equity.set_ylabel("equity ($)")
    equity.legend(loc="upper left", fontsize="small")
    equity.grid(alpha=0.3)
    drawdown.set_ylabel("drawdown ($)")
    drawdown.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def _calibration_plot(report: dict[str, Any]) -> Figure:
    figure, axes = plt.subplots(figsize=(6, 5))
    axes.plot([0, 1], [0, 1], color="#94a3b8", linestyle="--", label="perfect")
    calibration = report.get("calibration", {})
    for name, color in (("model", "#2563eb"), ("market", "#ea580c")):
        bins = [b for b in calibration.get(name, []) if b["count"]]
        axes.plot(
            [b["mean_predicted"] for b in bins],
            [b["observed_frequency"] for b in bins],
            marker="o",
            color=color,
            label=f"{name}",
        )
    axes.set_xlabel("predicted probability of YES")
    axes.set_ylabel("share that resolved YES")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return figure


def _calibration_text(report: dict[str, Any]) -> str:
    n = report.get("calibration", {}).get("n_events", 0)
    traded = report.get("n_scored_markets", 0)
    return (
        f"<p>Every bracket at every decision with a model forecast, a market price and a known result "
        f"({n:,} event decisions). On the {traded:,} markets traded: Brier model "
        f"{number(report.get('brier_model'), 4)} vs market {number(report.get('brier_market'), 4)}, log loss model "
        f"{number(report.get('log_loss_model'), 4)} vs market {number(report.get('log_loss_market'), 4)}.</p>"
    )


def _pnl_plot(report: dict[str, Any]) -> Figure:
    strategies = report.get("per_strategy", {})
    series = sorted({s for section in strategies.values() for s in section.get("per_series", {})})
    figure, axes = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(1, len(strategies))
    for i, (name, section) in enumerate(strategies.items()):
        values = [section.get("per_series", {}).get(s, {}).get("pnl_dollars", 0) or 0 for s in series]
        positions = [x + i * width for x in range(len(series))]
        axes.bar(positions, values, width=width, label=name)
    axes.set_xticks([x + width * (len(strategies) - 1) / 2 for x in range(len(series))], series)
    axes.axhline(0, color="#334155", linewidth=0.8)
    axes.set_ylabel("P&L after fees ($)")
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    return figure


def _walk_forward_table(choices: dict[str, list[dict[str, Any]]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(strategy)}</td><td>{fold['fold']}</td><td>{html.escape(fold['on'])}</td>"
        f"<td>{html.escape(', '.join(f'{k} {v}' for k, v in fold['chosen'].items()))}</td></tr>"
        for strategy, folds in choices.items()
        for fold in folds
    )
    return f"<table><tr><th>strategy</th><th>month</th><th>chosen on</th><th>parameters</th></tr>{rows}</table>"


def _coverage_table(coverage: dict[str, dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(decision_times([name])[0])}</td><td></td><td>{row['events']:,}</td>"
        f"<td>{row['events_fully_priced']:,}</td>"
        f"<td>{row['events_with_model']:,}</td><td>{row['markets_priced']:,} of {row['markets']:,}</td>"
        f"<td>{row['markets_fresh_quotes']:,}</td></tr>"
        for name, row in coverage.items()
    )
    head = "<th>decision</th><th></th><th>events</th><th>fully priced</th><th>with model</th>"
    return f"<table><tr>{head}<th>markets priced</th><th>fresh quotes</th></tr>{rows}</table>"
