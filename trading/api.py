"""Trading API: read and switch the kill switch."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.models import TradingState
from trading.permissions import MaySwitchTradingState
from trading.services import TradingStateError, set_trading_state, trading_gate


class TradingStateApi(APIView):
    """GET the trading state and whether positions may be opened; POST {state, reason} to switch it."""

    permission_classes = [MaySwitchTradingState]

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        state = serializers.ChoiceField(choices=TradingState.State.choices)
        reason = serializers.CharField(max_length=2000)

    class OutputSerializer(serializers.ModelSerializer[TradingState]):
        class Meta:
            model = TradingState
            fields = ["state", "reason", "changed_by", "changed_at"]

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
            return Response({"reason": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.OutputSerializer(state).data)
