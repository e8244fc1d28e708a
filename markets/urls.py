from __future__ import annotations

from rest_framework.routers import SimpleRouter

from markets.api import MarketViewSet

router = SimpleRouter()
router.register("markets", MarketViewSet, basename="api-market")

urlpatterns = router.urls
