"""``manage.py checksettlements``: observed high against Kalshi's settled high, per event."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from markets.services.settlement import check_settlements


class Command(BaseCommand):
    help = "Record each daily-high event's observed high next to the value Kalshi settled on, and list differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat)
        parser.add_argument("--end", type=date.fromisoformat)

    def handle(self, *args: Any, start: date | None, end: date | None, **options: Any) -> None:
        report = check_settlements(now=timezone.now(), start=start, end=end)
        compared = report.agree + len(report.disagree)
        self.stdout.write(
            f"{report.checked} events checked: {report.agree} agree, {len(report.disagree)} differ"
            + (f" ({100 * len(report.disagree) / compared:.1f}% of {compared} comparable)" if compared else "")
            + f"; {report.unsettled} without a settled value, {report.unobserved} without an observation."
        )
        for line in report.disagree:
            self.stdout.write(f"  {line}")
        for line in report.conflicting:
            self.stdout.write(self.style.WARNING(f"  conflicting settlement values: {line}"))
