"""Trained models and the bracket probabilities they produce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models

from markets.models import Event, Market


@dataclass(frozen=True)
class Readiness:
    """Whether predictions may be trusted for trading, and why not when they may not."""

    ready: bool
    reason: str
    model: ModelVersion | None = None


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def promoted(self) -> ModelVersionQuerySet:
        return self.filter(status=ModelVersion.Status.PROMOTED)

    def readiness(self, *, now: datetime, max_age: timedelta | None = None) -> Readiness:
        """Trading consults this: no promoted model, a stale one, or one trained after ``now``, means no trading.

        ``max_age`` defaults to MODEL_MAX_AGE_DAYS, so trading, predictions and
        the health check apply one rule.
        """
        if max_age is None:
            max_age = timedelta(days=settings.MODEL_MAX_AGE_DAYS)
        model = self.promoted().order_by("-promoted_at").first()
        if model is None:
            return Readiness(False, "no promoted model yet")
        if model.trained_at is not None and model.trained_at > now:
            # Predicting the past (predict --as-of) with a model that saw the future would be look-ahead.
            asked = f"{now.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
            return Readiness(
                False,
                f"model {model} was trained at {model.trained_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}, after {asked}; "
                f"train one with trainmodel --as-of {asked}",
                model,
            )
        if model.trained_at is None or now - model.trained_at > max_age:
            return Readiness(False, f"model {model} was trained more than {max_age.days} days ago", model)
        return Readiness(True, f"model {model} is current", model)


class ModelVersion(models.Model):
    """One trained model: what it saw, how it scored on validation, and its artifact."""

    class Kind(models.TextChoices):
        STATISTICAL = "statistical", "Calibrated statistical (EMOS)"
        XGBOOST = "xgboost", "XGBoost"
        BLEND = "blend", "Blend"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        PROMOTED = "promoted", "Promoted"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    training_start = models.DateField(null=True, blank=True)
    training_end = models.DateField(null=True, blank=True)
    features = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    validation_scores = models.JSONField(default=dict, blank=True, help_text="e.g. {brier, log_loss, crps}.")
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    artifact_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    notes = models.TextField(blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(status="promoted"),
                name="one_promoted_version_per_model",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PredictionQuerySet(models.QuerySet["Prediction"]):
    def newest_per_event(self, model: ModelVersion, event_ids: Sequence[int], now: datetime) -> PredictionQuerySet:
        """``model``'s newest prediction of each event made by ``now``: one row per event, each found through
        the (model version, event, as of) unique index, instead of reading every hourly prediction to keep one.
        In no order: its callers key the rows by event."""
        newest = Prediction.objects.filter(model_version=model, event_id=models.OuterRef("pk"), as_of__lte=now)
        newest_id = models.Subquery(newest.order_by("-as_of").values("pk")[:1])
        found = Event.objects.filter(pk__in=event_ids).annotate(newest=newest_id).values("newest")
        return self.filter(pk__in=found).order_by()  # one query: the ids are found inside it, not read back first


class Prediction(models.Model):
    """A model's distribution for one event's outcome, as of one decision time."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="predictions")
    as_of = models.DateTimeField(help_text="Decision time: only data available by then was used.")
    # Null when the model stood on market prices alone (no weather distribution for the day).
    mean_f = models.FloatField("mean (°F)", null=True, blank=True)
    std_f = models.FloatField("standard deviation (°F)", null=True, blank=True)
    running_max_f = models.FloatField(
        "observed running max (°F)", null=True, blank=True, help_text="Conditioned on, when the day had begun."
    )
    distribution = models.JSONField(default=dict, blank=True, help_text="Quantiles or parameters, model-specific.")
    inputs = models.JSONField(default=dict, blank=True, help_text="Which sources and forecasts went in.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "event", "as_of"], name="prediction_unique"),
        ]
        # The API lists every prediction newest first (as_of, then id): read backwards from this
        # index instead of sorting a year of them for each page (see benchmarks/bench_web.py).
        indexes = [models.Index(fields=["as_of", "id"], name="prediction_as_of")]

    def __str__(self) -> str:
        return f"{self.event} @ {self.as_of:%Y-%m-%d %H:%MZ} by {self.model_version}"


class BracketProbability(models.Model):
    """The probability that one market of the predicted event resolves YES."""

    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="brackets")
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="probabilities")
    probability = models.DecimalField(max_digits=9, decimal_places=8)

    class Meta:
        ordering = ["prediction", "market"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "market"], name="bracket_probability_unique"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1), name="probability_in_unit_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market.ticker}: {self.probability}"
