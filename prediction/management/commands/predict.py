"""``manage.py predict [--series ...]``: bracket probabilities for every open event, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from markets.management.kalshi_errors import series_list
from markets.models import Series
from prediction.management.series import named_series
from prediction.services.predict import predict_open_events


class Command(BaseCommand):
    help = "Store the promoted model's bracket probabilities for every open event (what the periodic task does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--series", type=series_list, help="Comma-separated series tickers (default: every series of the model)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        series = None
        if options["series"] is not None:
            series = named_series(Series.objects.select_related("city"), options["series"], unknown="Unknown series")
        run = predict_open_events(now=timezone.now(), series=series)
        if run.model is None:
            raise CommandError(f"No predictions: {run.reason}")
        for prediction in run.predictions:
            brackets = ", ".join(
                f"{b.market.ticker.rsplit('-', 1)[1]} {float(b.probability):.3f}"
                for b in prediction.brackets.select_related("market")
            )
            self.stdout.write(f"{prediction.event}: {brackets}")
        for line in run.skipped:
            self.stdout.write(self.style.WARNING(f"  skipped {line}"))
        self.stdout.write(f"{len(run.predictions)} predictions with {run.model}.")
