"""``manage.py syncmarkets [--discover] [--no-sync] [--series KXHIGHNY,...]``: discovery and market sync on demand.

The same services the periodic tasks run, with their reports printed:
discovery's matched, mismatched and unmatched series, and the sync's counts
per series. Both use Kalshi's public endpoints, so no API key is needed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from markets import connection
from markets.client import KalshiClient
from markets.history.catalog import UpsertResult
from markets.management.kalshi_errors import exchange_errors, series_list
from markets.services.discovery import CATEGORY, DiscoveryReport, discover_weather_series
from markets.services.sync import LOOKBACK, SyncReport, sync_markets


class Command(BaseCommand):
    help = "Discover Kalshi's daily temperature series and/or sync the events and markets of the traded series."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--discover", action="store_true", help="Run series discovery first.")
        parser.add_argument("--no-sync", action="store_true", help="Skip the market sync (with --discover).")
        parser.add_argument(
            "--series", type=series_list, help="Comma-separated series to sync (default: the active cities' series)."
        )
        parser.add_argument(
            "--lookback-days",
            type=int,
            default=LOOKBACK.days,
            help="Also refresh events closed this many days ago (default %(default)s).",
        )

    def handle(
        self,
        *args: Any,
        discover: bool,
        no_sync: bool,
        series: list[str] | None,
        lookback_days: int,
        **options: Any,
    ) -> None:
        if no_sync and not discover:
            raise CommandError("Nothing to do: --no-sync without --discover.")
        if lookback_days < 0:
            raise CommandError("--lookback-days cannot be negative.")
        with exchange_errors(), connection.kalshi_client() as client:
            if discover:
                self._print_discovery(discover_weather_series(client=client, now=timezone.now()))
            if not no_sync:
                self._print_sync(self._sync(client, series, timedelta(days=lookback_days)))

    def _sync(self, client: KalshiClient, series: list[str] | None, lookback: timedelta) -> SyncReport:
        return sync_markets(client=client, now=timezone.now(), series_tickers=series, lookback=lookback)

    def _print_discovery(self, report: DiscoveryReport) -> None:
        write, warn = self.stdout.write, self.style.WARNING
        write(
            f"Discovery: {report.listed} series in {CATEGORY!r}, {report.kept} daily temperature series "
            f"({report.created} new, {report.updated} updated)."
        )
        write(f"Matched ({len(report.matched)}):")
        for m in report.matched:
            write(f"  {m.ticker:<14} {m.city} (CLI{m.cli_code}){'  verified now' if m.verified_now else ''}")
        if report.mismatched:
            write(warn(f"Mismatched ({len(report.mismatched)}): the series settles elsewhere; not verified"))
            for mm in report.mismatched:
                line = f"  {mm.ticker:<14} CLI{mm.series_cli_code}, but {mm.city} has CLI{mm.city_cli_code} ({mm.url})"
                write(warn(line))
        if report.unmatched:
            write(f"Unmatched ({len(report.unmatched)}): no city has these tickers")
            for u in report.unmatched:
                hint = f"; {u.same_code_city} has that CLI code" if u.same_code_city else ""
                write(f"  {u.ticker:<14} CLI{u.cli_code}{hint}")
        if report.without_cli_source:
            write(warn(f"Without a CLI settlement source ({len(report.without_cli_source)}):"))
            for ticker, why in report.without_cli_source:
                write(warn(f"  {ticker:<14} {why}"))
        if report.missing:
            write(f"Not listed by Kalshi ({len(report.missing)}):")
            for miss in report.missing:
                write(f"  {miss.ticker:<14} {miss.city}{' (active)' if miss.city_active else ''}")
        for note in report.notes:
            write(warn(f"Note: {note}"))

    def _print_sync(self, report: SyncReport) -> None:
        if not report.series:
            self.stdout.write(self.style.WARNING("Sync: no series to sync (no active city has one)."))
            return
        self.stdout.write(f"Sync of {len(report.series)} series (new/updated/unchanged):")
        self.stdout.write(f"  {'series':<14}{'events':>16}{'markets':>18}")
        for ticker, counts in report.series.items():
            self.stdout.write(f"  {ticker:<14}{_counts(counts.events):>16}{_counts(counts.markets):>18}")
        for error in report.errors:
            self.stdout.write(self.style.WARNING(f"Error: {error}"))


def _counts(result: UpsertResult) -> str:
    return f"{result.created}/{result.updated}/{result.unchanged}"
