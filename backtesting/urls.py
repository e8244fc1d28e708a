from __future__ import annotations

from rest_framework.routers import SimpleRouter

from backtesting.api import BacktestRunViewSet

router = SimpleRouter()
router.register("backtests", BacktestRunViewSet, basename="api-backtest")

urlpatterns = router.urls
