from __future__ import annotations

from django.urls import path

from trading.api import TradingStateApi

urlpatterns = [
    path("trading/state/", TradingStateApi.as_view(), name="api-trading-state"),
]
