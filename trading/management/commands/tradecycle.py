"""``manage.py tradecycle [--once]``: one trading cycle now, with the configured mode's broker, summarised."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from trading.brokers import BrokerUnavailable
from trading.cycle import run_trading_cycle
from trading.services import trading_mode


class Command(BaseCommand):
    help = "Run one trading cycle now (the same one beat runs every TRADING_CYCLE_SECONDS) and print a summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Run one cycle and exit (the default; kept for scripts that say so)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mode = trading_mode()
        try:
            cycle = run_trading_cycle(now=timezone.now())
        except BrokerUnavailable as exc:
            raise CommandError(f"No trading cycle in {mode}: {exc}", returncode=1) from None
        lines = [
            f"Trading cycle [{cycle.mode}] {cycle.strategy} at {cycle.as_of:%Y-%m-%d %H:%M:%S}Z: {cycle.outcome}",
            f"  events {cycle.events}, markets {cycle.markets}, intents {cycle.intents}",
            f"  placed {cycle.placed}, queued for approval {cycle.queued}, cancelled {cycle.cancelled}",
        ]
        if cycle.errors:
            lines.append(f"  errors {cycle.errors}")
        if cycle.detail:
            lines.append(f"  detail: {cycle.detail}")
        self.stdout.write("\n".join(lines))
