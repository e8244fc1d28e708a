"""``manage.py predict [--series ...] [--as-of ISO-TIME]``: bracket probabilities for every open event, now or then."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from markets.management.kalshi_errors import series_list
from markets.models import Series
from prediction.management.arguments import instant
from prediction.management.series import named_series
from prediction.services.predict import predict_open_events


class Command(BaseCommand):
    help = "Store the promoted model's bracket probabilities for every open event (what the periodic task does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--series", type=series_list, help="Comma-separated series tickers (default: every series of the model)."
        )
        parser.add_argument(
            "--as-of",
            type=instant,
            help="Predict as of this past time (UTC unless it says), on history: the events open then, with a "
            "model trained by then (trainmodel --as-of).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        series = None
        if options["series"] is not None:
            series = named_series(Series.objects.select_related("city"), options["series"], unknown="Unknown series")
        as_of = options["as_of"]
        run = predict_open_events(now=as_of or timezone.now(), series=series, replay=as_of is not None)
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
