"""A backtest report for people: the terminal summary, in numbers a trader reads at a glance.

Money in dollars with cents, returns in percent, intervals beside what they
qualify, and a plain verdict on whether any edge survives fees with a 95%
interval that excludes zero. The HTML report with plots is backtesting.html.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text


def dollars(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def percent(value: float | None, places: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:+.{places}f}%"


def interval(values: list[float | None] | None, formatter: Any) -> str:
    if not values or values[0] is None or values[1] is None:
        return ""
    return f"{formatter(values[0])} to {formatter(values[1])}"


def short_dollars(value: float) -> str:
    return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+,.2f}"


def short_percent(value: float) -> str:
    return f"{value * 100:+.0f}%"


def number(value: float | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{places}f}"


def cents(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}¢"


def significant(section: dict[str, Any]) -> bool:
    """Whether the section's P&L interval lies wholly above zero."""
    low = (section.get("pnl_dollars_ci") or [None])[0]
    return low is not None and low > 0


STOPPING_RULES = {"max_drawdown": "drawdown", "max_daily_loss": "daily loss", "halted": "halt"}


def risk_lines(report: dict[str, Any]) -> list[str]:
    """What the risk limits refused, per strategy; a limit that stopped all trading says so first."""
    lines = []
    for strategy, rules in report.get("risk", {}).items():
        stops = [
            f"the {STOPPING_RULES[r]} limit from {v['first'][:10]}" for r, v in rules.items() if r in STOPPING_RULES
        ]
        ordered = sorted(rules.items(), key=lambda item: -item[1]["refused"])
        counted = ", ".join(f"{rule} {v['refused']:,}" for rule, v in ordered)
        if stops:
            lines.append(
                f"{strategy}: new orders were stopped by {' and '.join(stops)} on; after that the results show "
                "the limit, not the strategy (raise it with --limit to see the strategy)."
            )
        total = sum(v["refused"] for v in rules.values())
        lines.append(f"{strategy}: risk refused {total:,} proposals ({counted}).")
    return lines


def verdict(report: dict[str, Any]) -> str:
    winners = [name for name, section in report.get("per_strategy", {}).items() if significant(section)]
    losers = [
        name
        for name, section in report.get("per_strategy", {}).items()
        if (section.get("pnl_dollars_ci") or [None, None])[1] is not None and section["pnl_dollars_ci"][1] < 0
    ]
    parts = []
    if winners:
        parts.append(f"Edge after fees with a 95% interval above zero: {', '.join(winners)}.")
    else:
        parts.append("No strategy shows an edge after fees whose 95% interval excludes zero.")
    if losers:
        parts.append(f"Losing with an interval wholly below zero: {', '.join(losers)}.")
    return " ".join(parts)


def summary(report: dict[str, Any]) -> Group:
    """The run's terminal summary: parameters, results per strategy and series, calibration, coverage, verdict."""
    params = report["params"]
    header = Text.assemble(
        ("BACKTEST", "bold reverse"),
        " (replayed history, no order sent)  ",
        f"{params['start']} .. {params['end']} · {len(params['series'])} series · "
        f"decisions at {', '.join(decision_times(params['decision_times']))} local time · "
        f"bankroll {dollars(float(params['bankroll']))} per strategy · "
        f"{params['fill_model']} fills ({params['fill_window_minutes']:.0f}-minute taker window; prices are "
        f"prints of the last {params['quote_window_minutes']:.0f} minutes)",
    )
    parts: list[Any] = [header, _results(report), _calibration(report)]
    if report.get("walk_forward"):
        parts.append(_walk_forward(report["walk_forward"]))
    parts.append(_coverage(report.get("coverage", {})))
    parts.extend(Text(line, style="yellow") for line in risk_lines(report))
    parts.append(Text(verdict(report), style="bold"))
    if report.get("notes"):
        parts.append(Text(f"{len(report['notes'])} note(s) in the JSON report (events left out and why).", style="dim"))
    return Group(*parts)


def decision_times(labels: list[str]) -> list[str]:
    """'18:00-1' → '18:00 the day before', as a person says it."""
    return [f"{text[:-2]} the day before" if text.endswith("-1") else text for text in labels]


def _results(report: dict[str, Any]) -> Group:
    """Two tables, so each fits a terminal: what it earned (beside the naive fills), and how it earned it."""
    money = _table(
        "Results after fees (95% intervals resample whole days)",
        ("strategy", "series", "orders", "contracts", "P&L", "95% CI ($)", "ROI", "95% CI", "fees"),
    )
    quality = _table(
        "Risk and quality; naive: every order filled at the last trade, to show what that flatters",
        ("strategy", "series", "won", "Sharpe", "max DD", "CLV", "expected", "realised", "naive P&L", "naive ROI"),
    )
    naive = report.get("naive", {})
    for strategy, section in report.get("per_strategy", {}).items():
        naive_strategy = naive.get("per_strategy", {}).get(strategy, {})
        rows = [(strategy, "all", section, naive_strategy)]
        if len(section.get("per_series", {})) > 1:
            rows += [
                ("", series, by_series, naive_strategy.get("per_series", {}).get(series))
                for series, by_series in section["per_series"].items()
            ]
        for name, series, figures, naive_figures in rows:
            style = "bold" if series == "all" else ""
            money.add_row(*_money_row(name, series, figures), style=style)
            quality.add_row(*_quality_row(name, series, figures, naive_figures), style=style)
    if len(report.get("per_strategy", {})) > 1:
        money.add_row(*_money_row("all", "all", report), style="bold")
    return Group(money, quality)


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        left = column in ("strategy", "series", "decision", "month", "chosen on", "parameters")
        table.add_column(column, justify="left" if left else "right", no_wrap=column != "parameters")
    return table


def _money_row(strategy: str, series: str, section: dict[str, Any]) -> list[str]:
    pnl = dollars(section.get("pnl_dollars"))
    return [
        strategy,
        series,
        f"{section.get('n_trades', 0):,}",
        f"{section.get('contracts', 0):,.0f}",
        f"[green]{pnl}[/]" if significant(section) else pnl,
        interval(section.get("pnl_dollars_ci"), short_dollars),
        percent(section.get("roi")),
        interval(section.get("roi_ci"), short_percent),
        dollars(section.get("fees_dollars")),
    ]


def _quality_row(strategy: str, series: str, section: dict[str, Any], naive: dict[str, Any] | None) -> list[str]:
    effectiveness = section.get("kelly_effectiveness")
    return [
        strategy,
        series,
        "n/a" if section.get("win_rate") is None else f"{section['win_rate'] * 100:.0f}%",
        number(section.get("sharpe")),
        dollars(section.get("max_drawdown")),
        cents(section.get("clv_per_contract")),
        dollars(section.get("expected_pnl_dollars")) if section.get("expected_pnl_dollars") is not None else "",
        "" if effectiveness is None else f"{effectiveness * 100:.0f}%",
        dollars(naive.get("pnl_dollars")) if naive else "",
        percent(naive.get("roi")) if naive else "",
    ]


def _calibration(report: dict[str, Any]) -> Text:
    n = report.get("n_scored_markets", 0)
    if not n:
        return Text("Calibration: no traded market had both a model forecast and a market price.", style="dim")
    return Text(
        f"On the {n:,} markets traded: Brier model {number(report.get('brier_model'), 4)} vs market "
        f"{number(report.get('brier_market'), 4)}; log loss model {number(report.get('log_loss_model'), 4)} vs "
        f"market {number(report.get('log_loss_market'), 4)} (lower is better)."
    )


def _walk_forward(choices: dict[str, list[dict[str, Any]]]) -> Table:
    table = _table(
        "Walk-forward: each month traded with the parameters that did best before it",
        ("strategy", "month", "chosen on", "parameters"),
    )
    for strategy, folds in choices.items():
        for fold in folds:
            chosen = ", ".join(f"{k} {v}" for k, v in fold["chosen"].items())
            table.add_row(strategy, fold["fold"], fold["on"], chosen)
    return table


def _coverage(coverage: dict[str, dict[str, Any]]) -> Table:
    table = _table(
        "Data at each decision time",
        ("decision", "events", "fully priced", "with model", "markets priced", "fresh quotes"),
    )
    for name, row in coverage.items():
        table.add_row(
            decision_times([name])[0],
            f"{row['events']:,}",
            f"{row['events_fully_priced']:,}",
            f"{row['events_with_model']:,}",
            f"{row['markets_priced']:,} of {row['markets']:,}",
            f"{row['markets_fresh_quotes']:,}",
        )
    return table


def print_summary(report: dict[str, Any], console: Console) -> None:
    console.print(summary(report))
