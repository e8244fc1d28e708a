"""Trading API views: the kill switch and risk limits (operators change them), the ledger and journal (read)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api import filters
from trading.api.serializers import (
    CycleSerializer,
    DecisionSerializer,
    FillSerializer,
    OrderSerializer,
    PositionSerializer,
    ReconciliationSerializer,
    RiskLimitsSerializer,
)
from trading.models import (
    DecisionLogEntry,
    Fill,
    Order,
    Position,
    Reconciliation,
    RiskLimits,
    TradingCycle,
    TradingState,
)
from trading.permissions import MaySwitchTradingState
from trading.services import TradingStateError, set_trading_state, trading_gate


class TradingStateApi(APIView):
    """GET the trading state and whether positions may be opened; POST {state, reason} to switch it."""

    permission_classes = [MaySwitchTradingState]

    @extend_schema_serializer(component_name="TradingStateSwitch")
    class InputSerializer(serializers.Serializer[dict[str, str]]):
        state = serializers.ChoiceField(choices=TradingState.State.choices)
        reason = serializers.CharField(max_length=2000)

    @extend_schema_serializer(component_name="TradingState")
    class OutputSerializer(serializers.ModelSerializer[TradingState]):
        class Meta:
            model = TradingState
            fields = ["state", "reason", "changed_by", "changed_at"]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        gate = trading_gate(now=timezone.now())
        model = gate.model.model
        return Response(
            {
                **self.OutputSerializer(gate.state).data,
                "may_open_positions": gate.may_open_positions,
                "blocked_by": list(gate.reasons),
                "model": {
                    "ready": gate.model.ready,
                    "reason": gate.model.reason,
                    "version": str(model) if model is not None else None,
                    "trained_at": model.trained_at if model is not None else None,
                },
            }
        )

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            state = set_trading_state(
                state=given.validated_data["state"],
                reason=given.validated_data["reason"],
                actor=request.user.get_username(),
                now=timezone.now(),
            )
        except TradingStateError as exc:
            raise ValidationError({"reason": [str(exc)]}) from exc
        return Response(self.OutputSerializer(state).data)


class RiskLimitsApi(APIView):
    """GET the risk limits (staff); PATCH some of them (the trading-state permission). Money is "10.00"."""

    permission_classes = [MaySwitchTradingState]

    @extend_schema(responses=RiskLimitsSerializer)
    def get(self, request: Request) -> Response:
        return Response(RiskLimitsSerializer(RiskLimits.load()).data)

    @extend_schema(request=RiskLimitsSerializer(partial=True), responses=RiskLimitsSerializer)
    def patch(self, request: Request) -> Response:
        limits = RiskLimits.load()
        given = RiskLimitsSerializer(limits, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        for name, value in given.validated_data.items():
            setattr(limits, name, value)
        limits.updated_by = request.user.get_username()
        try:
            limits.full_clean()
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        limits.save()
        return Response(RiskLimitsSerializer(limits).data)


class DecisionViewSet(viewsets.ReadOnlyModelViewSet[DecisionLogEntry]):
    """The decision log: what each cycle decided about each market, and why."""

    serializer_class = DecisionSerializer
    filterset_class = filters.DecisionFilter

    def get_queryset(self) -> QuerySet[DecisionLogEntry]:
        return DecisionLogEntry.objects.order_by("-at", "ticker", "-id")


class OrderViewSet(viewsets.ReadOnlyModelViewSet[Order]):
    serializer_class = OrderSerializer
    filterset_class = filters.OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.order_by("-created_at", "-id")


class FillViewSet(viewsets.ReadOnlyModelViewSet[Fill]):
    serializer_class = FillSerializer
    filterset_class = filters.FillFilter

    def get_queryset(self) -> QuerySet[Fill]:
        return Fill.objects.order_by("-created_time", "-id")


class PositionViewSet(viewsets.ReadOnlyModelViewSet[Position]):
    serializer_class = PositionSerializer
    filterset_class = filters.PositionFilter

    def get_queryset(self) -> QuerySet[Position]:
        return Position.objects.order_by("mode", "ticker")


class CycleViewSet(viewsets.ReadOnlyModelViewSet[TradingCycle]):
    serializer_class = CycleSerializer
    filterset_class = filters.CycleFilter

    def get_queryset(self) -> QuerySet[TradingCycle]:
        return TradingCycle.objects.order_by("-as_of", "-id")


class ReconciliationViewSet(viewsets.ReadOnlyModelViewSet[Reconciliation]):
    """Each comparison of our ledger with the exchange's, with the differences it found."""

    serializer_class = ReconciliationSerializer
    filterset_class = filters.ReconciliationFilter

    def get_queryset(self) -> QuerySet[Reconciliation]:
        return Reconciliation.objects.prefetch_related("found").order_by("-started_at", "-id")
