"""API views of the project itself: the root listing every endpoint, the token endpoint and health."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from kalshiweb.health import run_health_checks


class ObtainTokenApi(ObtainAuthToken):
    """POST {username, password} for a token; send it as ``Authorization: Token <key>``. Throttled."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


# The endpoints the root lists: (label, URL name).
ENDPOINTS = [
    ("schema", "api-schema"),
    ("docs", "api-docs"),
    ("token", "api-token"),
    ("health", "api-health"),
    ("cities", "api-city-list"),
    ("forecasts", "api-forecast-list"),
    ("observations", "api-observation-list"),
    ("running-extremes", "api-running-extreme-list"),
    ("markets", "api-market-list"),
    ("predictions", "api-prediction-list"),
    ("model-versions", "api-modelversion-list"),
    ("backtests", "api-backtest-list"),
    ("trading-state", "api-trading-state"),
    ("risk-limits", "api-risk-limits"),
    ("decisions", "api-decision-list"),
    ("orders", "api-order-list"),
    ("fills", "api-fill-list"),
    ("positions", "api-position-list"),
    ("pnl", "api-pnl"),
    ("cycles", "api-cycle-list"),
    ("reconciliations", "api-reconciliation-list"),
]


class ApiRootApi(APIView):
    """Every endpoint of the API, by name."""

    name = "API root"

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response({label: reverse(name, request=request) for label, name in ENDPOINTS})


class HealthApi(APIView):
    """The components' health, as /health/ reports it: 503 when a critical one is down."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        report = run_health_checks(now=timezone.now())
        return Response(report.as_dict(), status=report.http_status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an unknown path under /api/ answers in the API's error shape; elsewhere Django's page."""
    if _is_api(request):
        return JsonResponse({"error": {"code": "not_found", "message": "No endpoint at this path."}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a bug under /api/ answers in the API's error shape (details only in the log)."""
    if _is_api(request):
        return JsonResponse({"error": {"code": "server_error", "message": "Server error."}}, status=500)
    return defaults.server_error(request)
