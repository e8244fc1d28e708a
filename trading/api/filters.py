"""Query filters for the trading API's lists."""

from __future__ import annotations

import django_filters

from kalshiweb.filters import UtcDateTimeFilter
from trading.models import DecisionLogEntry, Fill, Order, Position, Reconciliation, TradingCycle


class DecisionFilter(django_filters.FilterSet):
    at_after = UtcDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = UtcDateTimeFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = DecisionLogEntry
        fields = ["mode", "verdict", "strategy", "ticker", "event_ticker", "cycle", "at_after", "at_before"]


class OrderFilter(django_filters.FilterSet):
    class Meta:
        model = Order
        fields = ["mode", "ticker", "event_ticker", "status", "strategy"]


class FillFilter(django_filters.FilterSet):
    class Meta:
        model = Fill
        fields = ["mode", "ticker", "order"]


class PositionFilter(django_filters.FilterSet):
    class Meta:
        model = Position
        fields = ["mode", "ticker", "settled"]


class CycleFilter(django_filters.FilterSet):
    class Meta:
        model = TradingCycle
        fields = ["mode", "strategy", "outcome"]


class ReconciliationFilter(django_filters.FilterSet):
    class Meta:
        model = Reconciliation
        fields = ["mode", "complete"]
