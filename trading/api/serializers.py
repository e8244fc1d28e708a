"""What the trading API shows of the ledger, the journal and the controls. Money is a string: "10.00"."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kalshiweb.filters import MAX_ID
from kalshiweb.rest import DollarsModelSerializer
from trading.models import DecisionLogEntry, Difference, Fill, Order, Position, Reconciliation, RiskLimits, TradingCycle


class DecisionSerializer(DollarsModelSerializer):
    class Meta:
        model = DecisionLogEntry
        fields = [
            "id",
            "cycle",
            "mode",
            "at",
            "strategy",
            "event_ticker",
            "ticker",
            "probability",
            "market_probability",
            "yes_bid",
            "yes_ask",
            "side",
            "price",
            "edge",
            "size",
            "verdict",
            "reason",
            "rules",
            "client_order_id",
        ]


class OrderSerializer(DollarsModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "client_order_id",
            "mode",
            "ticker",
            "event_ticker",
            "book_side",
            "price",
            "count",
            "time_in_force",
            "post_only",
            "reduce_only",
            "status",
            "exchange_order_id",
            "filled_count",
            "remaining_count",
            "fees",
            "strategy",
            "reason",
            "decision",
            "created_at",
            "submitted_at",
            "updated_at",
        ]


class FillSerializer(DollarsModelSerializer):
    class Meta:
        model = Fill
        fields = [
            "id",
            "trade_id",
            "fill_id",
            "mode",
            "order",
            "exchange_order_id",
            "ticker",
            "book_side",
            "price",
            "count",
            "fee",
            "fee_known",
            "realized_pnl",
            "is_taker",
            "created_time",
            "recorded_at",
        ]


class PositionSerializer(DollarsModelSerializer):
    class Meta:
        model = Position
        fields = [
            "id",
            "mode",
            "ticker",
            "yes_count",
            "no_count",
            "total_cost",
            "realized_pnl",
            "fees_paid",
            "settled",
            "updated_at",
        ]


class CycleSerializer(DollarsModelSerializer):
    class Meta:
        model = TradingCycle
        fields = [
            "id",
            "mode",
            "strategy",
            "as_of",
            "finished_at",
            "outcome",
            "events",
            "markets",
            "intents",
            "placed",
            "queued",
            "cancelled",
            "errors",
            "detail",
        ]


class DifferenceSerializer(DollarsModelSerializer):
    class Meta:
        model = Difference
        fields = ["kind", "ticker", "reference", "ours", "theirs", "fix"]


class ReconciliationSerializer(DollarsModelSerializer):
    found = DifferenceSerializer(many=True, read_only=True)

    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "mode",
            "started_at",
            "finished_at",
            "complete",
            "orders_checked",
            "fills_checked",
            "differences",
            "unresolved",
            "detail",
            "found",
        ]


class RiskLimitsSerializer(DollarsModelSerializer):
    class Meta:
        model = RiskLimits
        exclude = ["id"]
        read_only_fields = ["updated_at", "updated_by"]


class CancelOrdersSerializer(serializers.Serializer[dict[str, Any]]):
    """Which working orders to cancel: exactly one of ids, ticker, event_ticker or all."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=500
    )
    ticker = serializers.CharField(required=False, max_length=64)
    event_ticker = serializers.CharField(required=False, max_length=64)
    all = serializers.BooleanField(required=False, help_text="Every working order of the configured mode.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chosen = [name for name in ("ids", "ticker", "event_ticker") if attrs.get(name)]
        chosen += ["all"] if attrs.get("all") else []
        if len(chosen) != 1:
            raise serializers.ValidationError("Give exactly one of ids, ticker, event_ticker or all=true.")
        return attrs


class NotCancelledSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    ticker = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="Null when no such order of this mode exists.")
    reason = serializers.CharField()


class CancelledOrdersSerializer(serializers.Serializer[dict[str, Any]]):
    cancelled = OrderSerializer(many=True)
    not_cancelled = NotCancelledSerializer(many=True)
