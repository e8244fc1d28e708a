"""Prediction API: predictions with their bracket probabilities, and the model versions behind them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from kalshiweb.filters import IdFilter, UtcDateTimeFilter
from kalshiweb.rest import LogPages
from prediction.models import BracketProbability, ModelVersion, Prediction
from prediction.scoretable import ScoreRow, score_rows


class PredictionFilter(django_filters.FilterSet):
    as_of_before = UtcDateTimeFilter(
        field_name="as_of", lookup_expr="lte", help_text="Point in time: only predictions made by then."
    )
    as_of_after = UtcDateTimeFilter(field_name="as_of", lookup_expr="gte")
    event = django_filters.CharFilter(field_name="event__event_ticker", help_text="Event ticker.")
    city = IdFilter(field_name="event__series__city", help_text="City id.")

    class Meta:
        model = Prediction
        fields = ["as_of_before", "as_of_after", "event", "city", "model_version"]


class BracketSerializer(serializers.ModelSerializer[BracketProbability]):
    ticker = serializers.CharField(source="market.ticker")

    class Meta:
        model = BracketProbability
        fields = ["ticker", "probability"]


_PROBABILITY = BracketSerializer().fields["probability"]


class PredictionSerializer(serializers.ModelSerializer[Prediction]):
    event = serializers.CharField(source="event.event_ticker")
    model = serializers.CharField(source="model_version.__str__")
    brackets = serializers.SerializerMethodField()

    @extend_schema_field(BracketSerializer(many=True))
    def get_brackets(self, prediction: Prediction) -> list[dict[str, Any]]:
        # A page holds hundreds of brackets: written as plain dicts, with the probability field's own formatting,
        # at a fraction of a nested serializer's cost per row (the schema still describes BracketSerializer).
        show = _PROBABILITY.to_representation
        if not hasattr(prediction, "bracket_rows"):  # serialized without its page (the viewset attaches a page's)
            attach_brackets([prediction])
        brackets: list[tuple[str, Any]] = prediction.bracket_rows  # type: ignore[attr-defined]
        return [{"ticker": ticker, "probability": show(probability)} for ticker, probability in brackets]

    class Meta:
        model = Prediction
        fields = [
            "id",
            "event",
            "model_version",
            "model",
            "as_of",
            "mean_f",
            "std_f",
            "running_max_f",
            "inputs",
            "created_at",
            "brackets",
        ]


def attach_brackets(predictions: Sequence[Prediction]) -> None:
    """Give each prediction its brackets as (ticker, probability), by strike, read in one query as plain rows.

    A page of 50 predictions carries 300 brackets: prefetched as model instances, each with its market, they
    cost more than the rest of the page.
    """
    rows = (
        BracketProbability.objects.filter(prediction__in=[p.pk for p in predictions])
        .order_by("prediction_id", "market__floor_strike", "market_id")
        .values_list("prediction_id", "market__ticker", "probability")
    )
    found: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for prediction_id, ticker, probability in rows:
        found[prediction_id].append((ticker, probability))
    for prediction in predictions:
        prediction.bracket_rows = found.get(prediction.pk, [])  # type: ignore[attr-defined]


class PredictionPages(LogPages):
    """Every event is predicted every hour: paged along the ``prediction_as_of`` index."""

    ordering = ("-as_of", "-id")
    page_size = 50  # each carries its brackets: half the log's default keeps a page near the others' size


class PredictionViewSet(viewsets.ReadOnlyModelViewSet[Prediction]):
    """Predictions, newest first; ``as_of_before`` answers "what did we believe then?".

    Paged by cursor: follow ``next`` (no ``count``; there are too many to count for each page).
    """

    serializer_class = PredictionSerializer
    filterset_class = PredictionFilter
    pagination_class = PredictionPages

    def get_queryset(self) -> QuerySet[Prediction]:
        return (
            Prediction.objects.select_related("event", "model_version")
            .defer("model_version__artifact", "distribution")
            .order_by("-as_of", "-id")
        )

    def paginate_queryset(self, queryset: Any) -> Any:  # the stubs' generic rows: here always predictions
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_brackets(page)
        return page


class ScoreRowSerializer(serializers.Serializer[ScoreRow]):
    """One section of the validation scores, four decimals; differences are model - market (negative: better)."""

    section = serializers.CharField(help_text='"overall", or a series and decision slot.')
    events = serializers.IntegerField(allow_null=True)
    brier_model = serializers.CharField()
    brier_market = serializers.CharField()
    brier_model_minus_market = serializers.CharField()
    brier_model_minus_market_95ci = serializers.CharField()
    log_loss_model = serializers.CharField()
    log_loss_market = serializers.CharField()
    log_loss_model_minus_market = serializers.CharField()
    log_loss_model_minus_market_95ci = serializers.CharField()


class ModelVersionSerializer(serializers.ModelSerializer[ModelVersion]):
    validation_scores = serializers.JSONField(help_text="As stored, e.g. {brier, log_loss, crps}.")
    scores = serializers.SerializerMethodField(help_text="The validation scores as a table, overall first.")

    @extend_schema_field(ScoreRowSerializer(many=True))
    def get_scores(self, version: ModelVersion) -> list[dict[str, Any]]:
        return [row.readable() for row in score_rows(version.validation_scores or {})]

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "version",
            "kind",
            "status",
            "created_at",
            "trained_at",
            "promoted_at",
            "training_start",
            "training_end",
            "features",
            "params",
            "scores",
            "validation_scores",
            "artifact_sha256",
            "notes",
        ]


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet[ModelVersion]):
    """Trained models with their validation scores (never the artifact's bytes)."""

    serializer_class = ModelVersionSerializer
    filterset_fields = ["name", "kind", "status"]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return ModelVersion.objects.defer("artifact").order_by("name", "-version")
