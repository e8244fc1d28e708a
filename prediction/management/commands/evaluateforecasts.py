"""``manage.py evaluateforecasts --start YYYY-MM-DD --end YYYY-MM-DD [--series ...] [--decision-time HH:MM]
[--day-before] [--json PATH]``: walk-forward, point-in-time scores of model, market and climatology."""

from __future__ import annotations

import json
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich import box
from rich.console import Console
from rich.table import Table

from kalshiweb.progress import command_bar
from markets.management.kalshi_errors import series_list
from prediction.cases import DecisionTime
from prediction.forecasters import CLIMATOLOGY, POSITIONS
from prediction.management.arguments import clock
from prediction.management.series import daily_high_series
from prediction.services.evaluate import evaluate_series, evaluation_report


class Command(BaseCommand):
    help = "Score the model's bracket probabilities against the market and climatology, walk-forward."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat, required=True)
        parser.add_argument("--end", type=date.fromisoformat, required=True)
        parser.add_argument(
            "--series", type=series_list, help="Comma-separated series tickers (default: every series with events)."
        )
        parser.add_argument("--decision-time", type=clock, default=time(10), help="Local clock time (default 10:00).")
        parser.add_argument("--day-before", action="store_true", help="Decide on the evening before the climate day.")
        parser.add_argument("--no-xgboost", action="store_true", help="The statistical model alone.")
        parser.add_argument("--json", type=Path, help="Write the full report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = options["start"], options["end"]
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}")
        decision = DecisionTime(options["decision_time"], day_before=options["day_before"])
        series = daily_high_series(options["series"], start, end)
        with command_bar(options) as progress:
            evaluations = [
                evaluate_series(
                    s,
                    start=start,
                    end=end,
                    decision=decision,
                    use_correction=not options["no_xgboost"],
                    progress=progress,
                )
                for s in series
            ]
        report = evaluation_report(evaluations, decision=decision, start=start, end=end)
        self._print(report, decision, options)
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {options['json']}")

    def _print(self, report: dict[str, Any], decision: DecisionTime, options: dict[str, Any]) -> None:
        console = Console(file=options.get("stdout") or sys.stdout, highlight=False, width=150)
        params = report["params"]
        console.print(
            f"Walk-forward evaluation {params['start']} .. {params['end']}, deciding at {decision.label()} "
            "(local time of each city); every score is out of sample, on events with a known winner."
        )
        console.print(_combination_table(report))
        console.print(_baselines_table(report))
        console.print(_weather_baselines_table(report))
        for line in _footnotes(report):
            console.print(line, style="dim")


def _combination_table(report: dict[str, Any]) -> Table:
    table = Table(
        title="The weather model alone (wx), the market (mkt) and their combination (model): events all three forecast",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in ("series", "events", "Brier wx", "mkt", "model", "model - mkt [95% CI]",
                   "log loss wx", "mkt", "model", "weights wx/mkt", "CRPS °F", "MAE °F"):  # fmt: skip
        table.add_column(column, justify="left" if column == "series" else "right", no_wrap=True)
    for name, section in [("ALL", report), *report["per_series"].items()]:
        scores = section.get("weather_model_market", {})
        if not scores.get("n_events"):
            table.add_row(name, "0", *[""] * 10)
            continue
        table.add_row(
            name,
            f"{scores['n_events']:,}",
            *(_number(scores.get(f"brier_{n}")) for n in ("weather", "market", "model")),
            _difference(scores, "brier_model_minus_market"),
            *(_number(scores.get(f"log_loss_{n}")) for n in ("weather", "market", "model")),
            f"{_number(scores.get('mean_weather_weight'), 2)}/{_number(scores.get('mean_market_weight'), 2)}",
            _number(scores.get("crps_weather"), 2),
            _number(scores.get("mae_weather"), 2),
        )
    return table


def _baselines_table(report: dict[str, Any]) -> Table:
    table = Table(
        title="The model against the market and climatology: events all of them forecast", title_justify="left",
        box=box.SIMPLE_HEAD,
    )  # fmt: skip
    for column in ("series", "events", "Brier model", "market", "climatology", "positions",
                   "log loss model", "market", "climatology"):  # fmt: skip
        table.add_column(column, justify="left" if column == "series" else "right", no_wrap=True)
    for name, section in [("ALL", report), *report["per_series"].items()]:
        if not section.get("n_events"):
            table.add_row(name, "0", *[""] * 7)
            continue
        positions = section.get("model_market_positions", {}).get("brier_positions")
        table.add_row(
            name,
            f"{section['n_events']:,}",
            *(_number(section.get(f"brier_{n}")) for n in ("model", "market", "climatology")),
            _number(positions),
            *(_number(section.get(f"log_loss_{n}")) for n in ("model", "market", "climatology")),
        )
    return table


def _weather_baselines_table(report: dict[str, Any]) -> Table:
    table = Table(
        title="The weather model alone against the baselines: each pair on the events both forecast",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in ("series", "events", "Brier wx", "positions", "wx - positions [95% CI]",
                   "events", "Brier wx", "climatology", "wx - climatology [95% CI]"):  # fmt: skip
        table.add_column(column, justify="left" if column == "series" else "right", no_wrap=True)
    for name, section in [("ALL", report), *report["per_series"].items()]:
        cells: list[str] = [name]
        for baseline in (POSITIONS, CLIMATOLOGY):
            scores = section.get(f"weather_{baseline}", {})
            if not scores.get("n_events"):
                cells.extend(["0", "", "n/a", ""])
                continue
            cells.extend(
                [
                    f"{scores['n_events']:,}",
                    _number(scores.get("brier_weather")),
                    _number(scores.get(f"brier_{baseline}")),
                    _difference(scores, f"brier_weather_minus_{baseline}"),
                ]
            )
        table.add_row(*cells)
    return table


def _footnotes(report: dict[str, Any]) -> list[str]:
    lines = [
        "ALL pools every series' events that the table's forecasters all forecast; a series without a climatology "
        "(too few observed highs before its events) is compared with the market alone, so its events join ALL's "
        "second table only through 'model and market'.",
        "The third table pairs the weather model with each baseline on the events both forecast, so ALL's "
        "climatology pair counts only the series that have a climatology (five years of highs before the event).",
        "Positions: how often each bracket position won before (the baseline any model must beat). "
        "Weights: the combination's mean exponents (p ∝ weather^w · market^m; 0/1 is the market alone).",
        "CRPS and MAE: of the weather model's distribution of the day's high against the high observed, in °F.",
        "Inputs of the model (events that used each):",
    ]
    for name, section in report["per_series"].items():
        inputs = sorted(section.get("inputs", {}).items(), key=lambda item: -item[1])
        described = "; ".join(f"{key} ({count})" for key, count in inputs) or "none"
        lines.append(f"  {name}: {described}")
    return lines


def _difference(scores: dict[str, Any], key: str) -> str:
    value, interval = scores.get(key), scores.get(f"{key}_ci")
    if value is None or not interval:
        return "n/a"
    return f"{value:+.4f} [{interval[0]:+.4f},{interval[1]:+.4f}]"


def _number(value: float | None, places: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"
