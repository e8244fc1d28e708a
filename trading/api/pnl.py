"""/api/pnl/: a mode's P&L history, from trading.pnl (the functions the dashboard's P&L page uses)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kalshiweb.modes import TradingMode
from kalshiweb.rest import Dollars
from trading import pnl


@extend_schema_serializer(component_name="PnlPeriod")
class PeriodSerializer(serializers.Serializer[pnl.PeriodPnl]):
    start = serializers.DateField(help_text="The period's first UTC day.")
    period = serializers.CharField(source="label", help_text="2025-02-28, 2025-W09 (ISO week) or 2025-02.")
    realised = Dollars(source="total", help_text="Realised P&L after fees: trading plus settled.")
    trading = Dollars(help_text="Fills' realised P&L: pairs closed, after the fills' fees.")
    settled = Dollars(help_text="Settlements' revenue less cost and fees.")
    fees = Dollars(help_text="Fees paid on fills and settlements (already inside the P&L).")
    fills = serializers.IntegerField()
    settlements = serializers.IntegerField()


@extend_schema_serializer(component_name="PnlGroup")
class GroupSerializer(serializers.Serializer[pnl.GroupPnl]):
    name = serializers.CharField(help_text='The city or strategy; "" when unknown (a market not in our tables).')
    realised = Dollars(source="total")
    trading = Dollars()
    settled = Dollars()
    fees = Dollars()
    fills = serializers.IntegerField()
    settlements = serializers.IntegerField()
    wins = serializers.IntegerField(help_text="Closed markets that made money.")
    losses = serializers.IntegerField(help_text="Closed markets that lost money.")


@extend_schema_serializer(component_name="PnlEquityPoint")
class EquityPointSerializer(serializers.Serializer[pnl.EquityPoint]):
    day = serializers.DateField()
    equity = Dollars()


@extend_schema_serializer(component_name="PnlBalancePoint")
class BalancePointSerializer(serializers.Serializer[pnl.BalancePoint]):
    day = serializers.DateField()
    cash = Dollars()
    equity = Dollars()


@extend_schema_serializer(component_name="PnlDrawdown")
class DrawdownSerializer(serializers.Serializer[pnl.Drawdown]):
    amount = Dollars(help_text="The largest fall of the equity curve from a peak.")
    fraction = serializers.DecimalField(
        max_digits=12, decimal_places=6, allow_null=True, help_text="Of the peak (null if the peak was not positive)."
    )
    peak = serializers.DateField(allow_null=True)
    trough = serializers.DateField(allow_null=True)


@extend_schema_serializer(component_name="Pnl")
class PnlSerializer(serializers.Serializer[pnl.PnlReport]):
    mode = serializers.CharField()
    day = serializers.SerializerMethodField(help_text="The time zone whose days the tables count: UTC.")
    cash = Dollars()
    equity = Dollars(help_text="Cash plus open positions at cost (not marked to market).")
    total = PeriodSerializer(source="overall")
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    max_drawdown = DrawdownSerializer(source="drawdown")
    daily = PeriodSerializer(source="days", many=True)
    weekly = PeriodSerializer(source="weeks", many=True)
    monthly = PeriodSerializer(source="months", many=True)
    by_city = GroupSerializer(source="cities", many=True)
    by_strategy = GroupSerializer(source="strategies", many=True)
    equity_curve = EquityPointSerializer(
        source="curve", many=True, help_text="End-of-day equity from the ledger: today's less what was realised since."
    )
    balances = BalancePointSerializer(many=True, help_text="Cash and equity as each day's last trading cycle recorded.")

    def get_day(self, report: pnl.PnlReport) -> str:
        return pnl.DAY_NAME


class PnlQuerySerializer(serializers.Serializer[dict[str, Any]]):
    mode = serializers.ChoiceField(choices=[m.value for m in TradingMode], required=False)


class PnlApi(APIView):
    """A mode's realised P&L by UTC day, ISO week and month, by city and strategy; its equity curve and drawdown."""

    name = "P&L"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "mode", str, enum=[m.value for m in TradingMode], description="Defaults to the configured mode."
            )
        ],
        responses=PnlSerializer,
    )
    def get(self, request: Request) -> Response:
        query = PnlQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        mode = query.validated_data.get("mode") or str(settings.TRADING_MODE)
        return Response(PnlSerializer(pnl.report(mode)).data)
