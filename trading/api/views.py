"""Trading API views: the kill switch and risk limits (operators change them), the ledger and journal (read)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kalshiweb.rest import Conflict, LogPages, Unavailable
from markets.errors import KalshiError
from prediction.models import Readiness
from trading.api import filters
from trading.api.serializers import (
    CancelledOrdersSerializer,
    CancelOrdersSerializer,
    CycleSerializer,
    DecisionSerializer,
    FillSerializer,
    OrderSerializer,
    PositionSerializer,
    ReconciliationSerializer,
    RiskLimitsSerializer,
)
from trading.brokers import BrokerUnavailable
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
from trading.services import (
    TradingGate,
    TradingStateError,
    cancel_orders,
    set_trading_state,
    trading_gate,
    update_risk_limits,
)


@extend_schema_serializer(component_name="ModelReadiness")
class ReadinessSerializer(serializers.Serializer[Readiness]):
    ready = serializers.BooleanField()
    reason = serializers.CharField()
    version = serializers.CharField(source="model", allow_null=True, help_text="The promoted model, if any.")
    trained_at = serializers.DateTimeField(source="model.trained_at", allow_null=True)


@extend_schema_serializer(component_name="TradingGate")
class TradingGateSerializer(serializers.Serializer[TradingGate]):
    """The trading state with what the strategy asks before new exposure: may it open positions, and if not why."""

    state = serializers.ChoiceField(source="state.state", choices=TradingState.State.choices)
    label = serializers.CharField(source="state.get_state_display")  # type: ignore[assignment]  # a field, not Field.label
    reason = serializers.CharField(source="state.reason")
    changed_by = serializers.CharField(source="state.changed_by")
    changed_at = serializers.DateTimeField(source="state.changed_at", allow_null=True)
    may_open_positions = serializers.BooleanField()
    blocked_by = serializers.ListField(source="reasons", child=serializers.CharField())
    model = ReadinessSerializer()


class TradingStateApi(APIView):
    """GET the trading state and whether positions may be opened; POST {state, reason} to switch it.

    The three operator actions: "reduce_only" stops new entries (positions may only shrink), "halted" stops
    everything and cancels the working orders once committed, "active" resumes.
    """

    permission_classes = [MaySwitchTradingState]

    @extend_schema_serializer(component_name="TradingStateSwitch")
    class InputSerializer(serializers.Serializer[dict[str, str]]):
        state = serializers.ChoiceField(choices=TradingState.State.choices)
        reason = serializers.CharField(max_length=2000)

    @extend_schema_serializer(component_name="TradingState")
    class OutputSerializer(serializers.ModelSerializer[TradingState]):
        label = serializers.CharField(source="get_state_display", help_text='As shown, e.g. "Reduce only".')  # type: ignore[assignment]

        class Meta:
            model = TradingState
            fields = ["state", "label", "reason", "changed_by", "changed_at"]

    @extend_schema(responses=TradingGateSerializer)
    def get(self, request: Request) -> Response:
        return Response(TradingGateSerializer(trading_gate(now=timezone.now())).data)

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
        given = RiskLimitsSerializer(RiskLimits.load(), data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        try:
            limits = update_risk_limits(
                given.validated_data, actor=request.user.get_username(), now=timezone.now(), via="api"
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(RiskLimitsSerializer(limits).data)


class DecisionPages(LogPages):
    """The decision log grows by every open market every cycle: paged along the ``decision_at_ticker_id`` index."""

    ordering = ("-at", "ticker", "-id")


class DecisionViewSet(viewsets.ReadOnlyModelViewSet[DecisionLogEntry]):
    """The decision log, newest first: what each cycle decided about each market, and why.

    Paged by cursor: follow ``next`` (no ``count``; the log is too long to count for each page).
    """

    serializer_class = DecisionSerializer
    filterset_class = filters.DecisionFilter
    pagination_class = DecisionPages

    def get_queryset(self) -> QuerySet[DecisionLogEntry]:
        return DecisionLogEntry.objects.order_by(*DecisionPages.ordering)


class OrderViewSet(viewsets.ReadOnlyModelViewSet[Order]):
    """Orders, newest first; operators cancel working ones in bulk with POST cancel/."""

    serializer_class = OrderSerializer
    filterset_class = filters.OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.order_by("-created_at", "-id")

    @extend_schema(
        request=CancelOrdersSerializer,
        responses={
            200: CancelledOrdersSerializer,
            409: OpenApiResponse(description="An order of another trading mode: nothing was cancelled."),
            503: OpenApiResponse(description="The mode's broker cannot be used now: nothing was cancelled."),
        },
        description="Cancel working orders by id, ticker, event or all of the configured mode; "
        "answers which were cancelled and why the others were not. 409 for an order of another mode.",
    )
    @action(detail=False, methods=["post"], url_path="cancel", permission_classes=[MaySwitchTradingState])
    def cancel(self, request: Request) -> Response:
        given = CancelOrdersSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        chosen, missing = _orders_to_cancel(given.validated_data)
        before = {order.pk: order.status for order in chosen}
        try:
            done = cancel_orders(chosen, actor=request.user.get_username(), now=timezone.now())
        except TradingStateError as exc:
            raise Conflict(f"Nothing was cancelled: {exc}") from exc
        except BrokerUnavailable as exc:
            raise Unavailable(f"Nothing was cancelled: {exc}") from exc
        except KalshiError as exc:  # setting up the client (a refused key); each order's own answer is caught below
            raise Unavailable(f"The exchange could not be used: {exc}. See each order's status.") from exc
        cancelled = [o for o in done if o.status == Order.Status.CANCELED and before[o.pk] != Order.Status.CANCELED]
        kept = [_not_cancelled(o, before[o.pk]) for o in done if o not in cancelled]
        kept += [{"id": pk, "ticker": None, "status": None, "reason": "No such order."} for pk in missing]
        return Response(CancelledOrdersSerializer({"cancelled": cancelled, "not_cancelled": kept}).data)


def _orders_to_cancel(given: dict[str, object]) -> tuple[list[Order], list[int]]:
    """The orders chosen by ids (any mode: another mode's is a conflict), or the configured mode's working
    orders of a ticker, an event or all; and the ids that match no order."""
    if ids := given.get("ids"):
        wanted = set(ids)  # type: ignore[call-overload]
        found = list(Order.objects.filter(pk__in=wanted).order_by("pk"))
        return found, sorted(wanted - {o.pk for o in found})
    working = Order.objects.filter(
        mode=settings.TRADING_MODE, status__in=[*Order.WORKING, Order.Status.AWAITING_APPROVAL]
    )
    if ticker := given.get("ticker"):
        working = working.filter(ticker=ticker)
    if event_ticker := given.get("event_ticker"):
        working = working.filter(event_ticker=event_ticker)
    return list(working.order_by("pk")), []


def _not_cancelled(order: Order, status_before: str) -> dict[str, object]:
    if status_before in Order.FINAL:
        reason = f"Nothing rests at the exchange: the order is {Order.Status(status_before).label.lower()}."
    else:
        reason = f"Still {order.get_status_display().lower()} after the cancel: {order.reason}"
    return {"id": order.pk, "ticker": order.ticker, "status": order.status, "reason": reason}


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
