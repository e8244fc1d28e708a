"""``manage.py trainmodel [--series ...] [--as-of ISO-TIME] [--no-xgboost] [--no-promote]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kalshiweb.progress import command_bar
from markets.management.kalshi_errors import series_list
from markets.models import Series
from prediction.management.arguments import instant
from prediction.management.series import named_series
from prediction.services.training import TrainingError, train_bracket_model


class Command(BaseCommand):
    help = "Train a new version of the bracket model, validate it walk-forward, and promote it if it is better."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--series", type=series_list, help="Comma-separated series tickers (default: those with recent events)."
        )
        parser.add_argument(
            "--as-of", type=instant, help="Train on what was known at this time (UTC unless it says), e.g. on history."
        )
        parser.add_argument("--no-xgboost", action="store_true", help="The statistical model alone.")
        parser.add_argument("--no-promote", action="store_true", help="Store the version as a candidate only.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["as_of"] or timezone.now()
        series = None
        if options["series"] is not None:
            queryset = Series.objects.filter(city__isnull=False).select_related("city")
            series = named_series(queryset, options["series"], unknown="Unknown or city-less series")
        try:
            with command_bar(options) as progress:
                outcome = train_bracket_model(
                    now=now,
                    series=series,
                    use_correction=not options["no_xgboost"],
                    promote=not options["no_promote"],
                    progress=progress,
                )
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        version = outcome.version
        overall = version.validation_scores.get("overall", {})
        self.stdout.write(f"{version} trained in {outcome.seconds:.1f}s on {len(version.params['series'])} series")
        if overall.get("n_events"):
            self.stdout.write(
                f"validation: {overall['n_events']} events, Brier model {overall['brier_model']:.4f} "
                f"market {overall['brier_market']:.4f}, log loss model {overall['log_loss_model']:.4f} "
                f"market {overall['log_loss_market']:.4f}"
            )
        for note in outcome.notes:
            self.stdout.write(f"  {note}")
        style = self.style.SUCCESS if outcome.promoted else self.style.WARNING
        self.stdout.write(style(outcome.reason))
        if outcome.market_warning is not None:
            self.stdout.write(self.style.ERROR(f"WARNING: {outcome.market_warning}"))
