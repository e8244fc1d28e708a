from __future__ import annotations

from rest_framework.routers import SimpleRouter

from prediction.api import ModelVersionViewSet, PredictionViewSet

router = SimpleRouter()
router.register("predictions", PredictionViewSet, basename="api-prediction")
router.register("model-versions", ModelVersionViewSet, basename="api-modelversion")

urlpatterns = router.urls
