"""``manage.py evaluateforecasts --start YYYY-MM-DD --end YYYY-MM-DD [--series ...] [--decision-time HH:MM]
[--day-before] [--json PATH]``: walk-forward, point-in-time scores of model, market and climatology."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kalshiweb.progress import command_bar
from markets.management.kalshi_errors import series_list
from prediction.cases import DecisionTime
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
        self._print(report, decision)
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {options['json']}")

    def _print(self, report: dict[str, Any], decision: DecisionTime) -> None:
        self.stdout.write(f"Decision at {decision.label()} (local time of each city)")
        header = f"{'series':<12}{'events':>7}  {'Brier model/market/clim':<26}{'log loss model/market/clim':<28}"
        self.stdout.write(header + "market weight  inputs")
        for name, section in [("ALL", report), *report["per_series"].items()]:
            if not section.get("n_events"):
                self.stdout.write(f"{name:<12}{0:>7}  (no event with a known winner that every forecaster priced)")
                continue
            brier = "/".join(_number(section.get(f"brier_{n}")) for n in ("model", "market", "climatology"))
            logs = "/".join(_number(section.get(f"log_loss_{n}")) for n in ("model", "market", "climatology"))
            inputs = ", ".join(f"{k} ({v})" for k, v in sorted(section.get("inputs", {}).items()))
            weight = _number(section.get("mean_market_weight"), 2)
            inputs = inputs if name != "ALL" else ""
            self.stdout.write(f"{name:<12}{section['n_events']:>7}  {brier:<26}{logs:<28}{weight:>13}  {inputs}")


def _number(value: float | None, places: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"
