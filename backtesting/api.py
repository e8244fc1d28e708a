"""Backtest API: start a run (202 with its URL), follow its status and progress, read its results and trades.

Starting validates with the serializer the dashboard's form uses and stores
the run with the same start function (backtesting.launch); a Celery task runs
it. Results are the run's stored report: nothing is computed again here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from backtesting.launch import BacktestStartSerializer, may_start_backtests, start_backtest
from backtesting.models import BacktestRun, BacktestTrade
from kalshiweb.rest import Conflict, DollarsModelSerializer


class MayStartBacktests(BasePermission):
    """Staff read runs; starting one needs the operators' permission (see may_start_backtests)."""

    message = "Starting a backtest needs the 'Can change trading state' or 'Can add backtest run' permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user: Any = request.user
        if not (user and user.is_active and user.is_staff):
            return False
        return request.method in SAFE_METHODS or may_start_backtests(user)


class ProgressSerializer(serializers.Serializer[BacktestRun]):
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total", help_text="0 while the step's size is unknown.")
    message = serializers.CharField(source="progress_message")
    percent = serializers.IntegerField(source="progress_percent")


class BacktestRunSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-backtest-detail")
    results = serializers.HyperlinkedIdentityField(view_name="api-backtest-results")
    progress = ProgressSerializer(source="*")

    class Meta:
        model = BacktestRun
        fields = ["id", "url", "status", "start_date", "end_date", "series", "strategy", "fill_model", "requested_by",
                  "progress", "error", "created_at", "started_at", "finished_at", "results"]  # fmt: skip


class BacktestRunDetailSerializer(BacktestRunSerializer):
    class Meta(BacktestRunSerializer.Meta):
        fields = [*BacktestRunSerializer.Meta.fields, "params"]


class BacktestTradeSerializer(DollarsModelSerializer):
    class Meta:
        model = BacktestTrade
        fields = ["id", "strategy", "series_ticker", "event_ticker", "ticker", "side", "count", "price", "fee",
                  "taker", "decided_at", "filled_at", "probability", "model_probability", "market_probability",
                  "expected_value", "payout", "pnl", "reason"]  # fmt: skip


class BacktestRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[BacktestRun]
):
    """Backtest runs, newest first. POST starts one (operators) and answers 202 with the run to follow."""

    permission_classes = [MayStartBacktests]
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[BacktestRun]:
        runs = BacktestRun.objects.order_by("-created_at", "-id")
        if self.action == "results":
            return runs
        return runs.defer("metrics", "equity_curve")  # a year's report is megabytes: only results reads it

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "create":
            return BacktestStartSerializer
        if self.action == "trades":
            return BacktestTradeSerializer
        return BacktestRunDetailSerializer if self.action == "retrieve" else BacktestRunSerializer

    @extend_schema(request=BacktestStartSerializer, responses={202: BacktestRunDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = BacktestStartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        run = start_backtest(given.to_request(), requested_by=request.user.get_username())
        body = BacktestRunDetailSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """The run's report (metrics overall, per strategy and per series, calibration), its equity curve
        and the link to its trades; 409 until it has succeeded."""
        run = self.get_object()
        if run.status != BacktestRun.Status.SUCCEEDED:
            raise Conflict(
                f"Run {run.pk} is {run.get_status_display().lower()}; it has no results yet.", code="not_finished"
            )
        return Response(
            {
                "id": run.pk,
                "status": run.status,
                "metrics": run.metrics,
                "equity_curve": [{"at": at, "equity": value} for at, value in run.equity_curve],
                "trades": reverse("api-backtest-trades", args=[run.pk], request=request),
            }
        )

    @extend_schema(responses=BacktestTradeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def trades(self, request: Request, pk: str | None = None) -> Response:
        """The run's fills, in the order they filled, a page at a time."""
        run = self.get_object()
        trades = BacktestTrade.objects.filter(run=run).order_by("filled_at", "id")
        page = self.paginator.paginate_queryset(trades, request, view=self) if self.paginator else None
        return self.get_paginated_response(self.get_serializer(page if page is not None else trades, many=True).data)
