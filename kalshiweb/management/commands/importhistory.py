"""``manage.py importhistory DIR``: import a history folder laid out like ../shared/data.

Idempotent (a second run adds nothing), streaming, and committed in batches:
a malformed line stops the import with ``file:line: reason`` and a non-zero
exit, leaving everything imported before it in place. Files no importer
recognises are listed and skipped. While it runs, a bar per kind of file shows
the kilobytes read on stderr (none at --verbosity 0); the summary goes to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kalshiweb.history import HistoryReport, import_history
from kalshiweb.progress import command_bar
from markets.history.catalog import BATCH_SIZE
from markets.history.readers import MalformedLine


class Command(BaseCommand):
    help = (
        "Import Kalshi markets, events, trade tapes and settled tables, observed highs and archived "
        "forecasts from a folder like ../shared/data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        root = directory.expanduser().resolve()
        if not root.is_dir():
            raise CommandError(f"{directory} is not a directory")
        try:
            # The bar closes before the error is printed, so the message stands below it.
            with command_bar(options) as progress:
                report = import_history(root, now=timezone.now(), progress=progress)
        except MalformedLine as exc:
            kept = (
                "Everything before this line was imported"
                if exc.line is not None
                # Found only when a whole batch was checked: the batch holding it was not stored.
                else "Earlier files and earlier batches of this file were imported; the batch of up to "
                f"{BATCH_SIZE:,} rows holding the problem was not"
            )
            raise CommandError(f"{exc}\n{kept}; fix the file and run again.") from None
        self._summarise(root, report)

    def _summarise(self, root: Path, report: HistoryReport) -> None:
        self.stdout.write(f"Imported from {root}:")
        self.stdout.write(f"  {'kind':<22}{'files':>6}{'read':>12}{'new':>12}{'updated':>10}{'unchanged':>12}")
        for _, section in report.sections:
            for kind, counts in section.kinds.items():
                if counts.files:
                    self.stdout.write(
                        f"  {kind:<22}{counts.files:>6}{counts.read:>12,}{counts.created:>12,}"
                        f"{counts.updated:>10,}{counts.unchanged:>12,}"
                    )
        if report.skipped:
            self.stdout.write(f"Skipped {len(report.skipped)} file(s):")
            for path, reason in report.skipped:
                self.stdout.write(f"  {path.relative_to(root)}: {reason}")
        for _, section in report.sections:
            for note in section.notes:
                self.stdout.write(self.style.WARNING(f"Note: {note}"))
