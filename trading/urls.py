from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from trading.api import pnl, views

router = SimpleRouter()
router.register("decisions", views.DecisionViewSet, basename="api-decision")
router.register("orders", views.OrderViewSet, basename="api-order")
router.register("fills", views.FillViewSet, basename="api-fill")
router.register("positions", views.PositionViewSet, basename="api-position")
router.register("cycles", views.CycleViewSet, basename="api-cycle")
router.register("reconciliations", views.ReconciliationViewSet, basename="api-reconciliation")

urlpatterns = [
    path("trading/state/", views.TradingStateApi.as_view(), name="api-trading-state"),
    path("trading/risk-limits/", views.RiskLimitsApi.as_view(), name="api-risk-limits"),
    path("pnl/", pnl.PnlApi.as_view(), name="api-pnl"),
    *router.urls,
]
