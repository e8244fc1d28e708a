"""``manage.py runbacktest --start YYYY-MM-DD --end YYYY-MM-DD [--series ...] [--strategy NAME] [--json PATH]
[--html PATH]``: replay imported history through the live decision path and report what it would have earned."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentTypeError
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console

from backtesting.html import write_html
from backtesting.report import print_summary
from backtesting.services import DEFAULT_STRATEGY, BacktestRequest, run_and_store
from kalshiweb.progress import command_bar
from markets.management.kalshi_errors import series_list
from prediction.cases import DecisionTime
from prediction.management.arguments import clock
from prediction.management.series import daily_high_series
from trading.limits import Limits
from trading.models import RiskLimits
from trading.strategies import STRATEGIES

DEFAULT_TIMES = "18:00-1,10:00,14:00"


def decision_times(text: str) -> tuple[DecisionTime, ...]:
    """'18:00-1,10:00' → 18:00 the evening before and 10:00 on the day (local clock times of each city)."""
    times = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            times.append(DecisionTime(clock(part.removesuffix("-1")), day_before=part.endswith("-1")))
        except ValueError as exc:
            raise ArgumentTypeError(f"{exc}; write times like 10:00, or 18:00-1 for the evening before") from None
    if not times:
        raise ArgumentTypeError("give at least one decision time, e.g. 10:00 or 18:00-1 (the evening before)")
    return tuple(sorted(set(times), key=lambda d: (not d.day_before, d.clock)))


def strategies(text: str) -> list[str]:
    names = list(STRATEGIES) if text.strip() == "all" else [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise ArgumentTypeError(
            f"unknown strategy {', '.join(unknown) or text!r}; choose from {', '.join(STRATEGIES)} or all"
        )
    return names


def money(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value <= 0:
        raise ArgumentTypeError(f"{text!r} must be a positive amount")
    return value


def limit(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    known = {f.name for f in fields(Limits)}
    if name not in known or not value:
        raise ArgumentTypeError(f"--limit takes NAME=VALUE with NAME one of {', '.join(sorted(known))}; got {text!r}")
    return name, value


class Command(BaseCommand):
    help = "Backtest a strategy on imported history with the live decision and risk code, fills from the real tape."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat, required=True, help="First climate day (YYYY-MM-DD).")
        parser.add_argument("--end", type=date.fromisoformat, required=True, help="Last climate day (YYYY-MM-DD).")
        parser.add_argument("--series", type=series_list, help="Comma-separated series (default: all with events).")
        parser.add_argument(
            "--strategy",
            type=strategies,
            default=[DEFAULT_STRATEGY],
            help=f"{', '.join(STRATEGIES)}, several comma-separated, or all (default {DEFAULT_STRATEGY}).",
        )
        parser.add_argument(
            "--decision-times",
            type=decision_times,
            default=decision_times(DEFAULT_TIMES),
            help=f"Local clock times to decide at; '-1' means the evening before (default {DEFAULT_TIMES}).",
        )
        parser.add_argument(
            "--bankroll", type=money, default=Decimal(1000), help="Dollars per strategy (default 1000)."
        )
        parser.add_argument("--fill-window", type=int, default=15, help="Minutes a taker order may fill (default 15).")
        parser.add_argument(
            "--quote-window", type=int, default=60, help="Minutes a print counts as a price on offer (default 60)."
        )
        parser.add_argument("--min-edge", type=money, help="Model strategies: dollars per contract after fees.")
        parser.add_argument("--kelly-fraction", type=money, help="Model strategies: share of full Kelly.")
        parser.add_argument("--margin", type=money, help="model-maker: dollars below fair value to bid.")
        parser.add_argument(
            "--limit", type=limit, action="append", default=[], help="Override a risk limit, e.g. max_price=0.99."
        )
        parser.add_argument(
            "--walk-forward", action="store_true", help="Choose parameters month by month on earlier months."
        )
        parser.add_argument("--no-naive", action="store_true", help="Skip the naive-fills comparison.")
        parser.add_argument("--json", type=Path, help="Write the full report as JSON.")
        parser.add_argument("--html", type=Path, help="Write an HTML report with plots.")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = options["start"], options["end"]
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}")
        if options["fill_window"] <= 0 or options["quote_window"] <= 0:
            raise CommandError("--fill-window and --quote-window must be positive numbers of minutes")
        request = self._request(options)
        with command_bar(options) as progress:
            outcome = run_and_store(request, now=timezone.now(), progress=progress)
        print_summary(outcome.report, Console(file=options.get("stdout") or sys.stdout, highlight=False, width=160))
        self.stdout.write(f"Stored as backtest run {outcome.run.pk}.")
        if options["json"]:
            options["json"].write_text(json.dumps(outcome.report, indent=2, default=str) + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {options['json']}")
        if options["html"]:
            write_html(outcome.report, outcome.results, options["html"])
            self.stdout.write(f"Wrote {options['html']}")

    def _request(self, options: dict[str, Any]) -> BacktestRequest:
        risk = RiskLimits.load()
        limits, sizing = risk.limits(), risk.sizing()
        overrides: dict[str, Any] = {}
        for name, value in options["limit"]:
            current = getattr(limits, name)
            try:
                overrides[name] = timedelta(minutes=int(value)) if isinstance(current, timedelta) else Decimal(value)
            except (InvalidOperation, ValueError):
                raise CommandError(f"--limit {name}={value}: not a number") from None
        limits = replace(limits, **overrides)
        if options["min_edge"] is not None:
            sizing = replace(sizing, min_edge=options["min_edge"])
        if options["kelly_fraction"] is not None:
            sizing = replace(sizing, kelly_fraction=options["kelly_fraction"])
        params = {"margin": options["margin"]} if options["margin"] is not None else {}
        return BacktestRequest(
            start=options["start"],
            end=options["end"],
            series=daily_high_series(options["series"], options["start"], options["end"]),
            strategies=options["strategy"],
            decision_times=options["decision_times"],
            bankroll=options["bankroll"],
            limits=limits,
            sizing=sizing,
            params=params,
            fill_window=timedelta(minutes=options["fill_window"]),
            quote_window=timedelta(minutes=options["quote_window"]),
            compare_naive=not options["no_naive"],
            walk_forward=options["walk_forward"],
        )
