"""Project-level pages: the public health endpoint (the status page is dashboard.views.status)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kalshiweb.health import run_health_checks


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Public: 200 when serving (ok or degraded), 503 when a critical component is down."""
    report = run_health_checks(now=timezone.now())
    return JsonResponse(report.as_dict(), status=report.http_status)
