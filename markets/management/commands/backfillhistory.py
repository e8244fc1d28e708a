"""``manage.py backfillhistory --series KXHIGHNY[,KXHIGHCHI] --start YYYY-MM-DD --end YYYY-MM-DD [--no-trades]``.

Imports the events, markets and trade tape of the given climate days from
Kalshi's REST API, reading archived data from the /historical endpoints (see
:mod:`markets.services.backfill`). Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from markets import connection
from markets.history.catalog import UpsertResult
from markets.management.kalshi_errors import exchange_errors, series_list
from markets.services.backfill import BackfillReport, backfill_history


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = "Backfill events, markets and trades of Kalshi series for a range of climate days from the REST API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--series", type=series_list, required=True, help="e.g. KXHIGHNY,KXHIGHCHI")
        parser.add_argument("--start", type=iso_date, required=True, help="First climate day, YYYY-MM-DD.")
        parser.add_argument("--end", type=iso_date, required=True, help="Last climate day, YYYY-MM-DD.")
        parser.add_argument("--no-trades", action="store_true", help="Events and markets only.")

    def handle(self, *args: Any, series: list[str], start: date, end: date, no_trades: bool, **options: Any) -> None:
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}.")
        with exchange_errors(), connection.kalshi_client() as client:
            for ticker in series:
                report = backfill_history(
                    client=client, series_ticker=ticker, start=start, end=end, now=timezone.now(), trades=not no_trades
                )
                self._print(report, trades=not no_trades)

    def _print(self, report: BackfillReport, *, trades: bool) -> None:
        write = self.stdout.write
        write(f"{report.series_ticker} {report.start}..{report.end}:")
        if report.cutoff is not None:
            write(
                f"  historical cutoff: markets settled before {report.cutoff.market_settled_ts:%Y-%m-%d %H:%MZ}, "
                f"trades before {report.cutoff.trades_created_ts:%Y-%m-%d %H:%MZ}"
            )
        write(f"  events   {_counts(report.events)}")
        write(
            f"  markets  {_counts(report.markets)}  "
            f"({report.live_markets} live, {report.archived_markets} from /historical/markets)"
        )
        if trades:
            write(f"  trades   {report.trades_read} read, {report.trades_new} new")
        for error in report.errors:
            write(self.style.WARNING(f"  error: {error}"))
        if report.errors_dropped:
            write(self.style.WARNING(f"  ... and {report.errors_dropped} more errors"))


def _counts(result: UpsertResult) -> str:
    return f"{result.created} new, {result.updated} updated, {result.unchanged} unchanged"
