"""``manage.py reconcile [--mode DRY|DEMO|LIVE]``: compare a ledger with the exchange now, and say what was found."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kalshiweb.modes import TradingMode
from markets.connection import kalshi_client
from markets.credentials import CredentialError
from trading.models import Reconciliation
from trading.reconcile import reconcile, reconcile_paper


class Command(BaseCommand):
    help = "Reconcile a mode's ledger with the exchange (DRY: with itself) and print what differed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mode", choices=[m.value for m in TradingMode], help="The ledger to reconcile (default: TRADING_MODE)."
        )

    def handle(self, *args: Any, mode: str | None, **options: Any) -> None:
        mode = mode or str(settings.TRADING_MODE)
        now = timezone.now()
        if mode == TradingMode.DRY:
            row = reconcile_paper(now)
        else:
            if mode != settings.TRADING_MODE:
                raise CommandError(
                    f"The configured exchange ({settings.KALSHI_ENV}) serves TRADING_MODE={settings.TRADING_MODE}; "
                    f"run with TRADING_MODE={mode} to reconcile {mode}."
                )
            try:
                with kalshi_client() as client:
                    row = reconcile(client, mode=mode, now=now)
            except CredentialError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(summary(row))


def summary(row: Reconciliation) -> str:
    """A few lines for a person: counts, the balance, and whether it is complete (and if not, why)."""
    lines = [
        f"[{row.mode}] reconciliation at {row.started_at:%Y-%m-%d %H:%M:%S}Z: "
        + ("complete" if row.complete else f"INCOMPLETE ({row.unresolved} unresolved)"),
        f"{row.orders_checked} working orders and {row.fills_checked} fills checked; {row.differences} differences",
    ]
    if row.balance is not None:
        lines.append(f"balance: ${row.balance:,.2f}")
    counts: dict[str, int] = {}
    for kind in row.found.values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    for kind, label in row.found.model.Kind.choices:
        if counts.get(kind):
            lines.append(f"  {label}: {counts[kind]}")
    lines.extend(f"  {line}" for line in row.detail.splitlines()[1:])  # the first is the counts above
    return "\n".join(lines)
