"""Project-level pages: the health endpoint and the status page."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kalshiweb.health import run_health_checks
from trading.models import RiskLimits, TradingState, TradingStateChange
from weather.models import City


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Public: 200 when serving (ok or degraded), 503 when a critical component is down."""
    report = run_health_checks(now=timezone.now())
    return JsonResponse(report.as_dict(), status=report.http_status)


@staff_member_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The operator's status page: mode, kill switch, components, cities."""
    report = run_health_checks(now=timezone.now())
    context = {
        "report": report,
        "trading_state": TradingState.load(),
        "risk_limits": RiskLimits.load(),
        "state_changes": TradingStateChange.objects.all()[:10],
        "cities": City.objects.order_by("-is_active", "name"),
    }
    return render(request, "home.html", context)
