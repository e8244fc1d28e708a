from __future__ import annotations

from django.urls import path

from dashboard.views import audit, fills, markets, onboarding, positions, status, status_actions

urlpatterns = [
    path("markets/", markets.markets_today, name="dashboard-markets"),
    path("positions/", positions.positions, name="dashboard-positions"),
    path("fills/", fills.fills, name="dashboard-fills"),
    path("status/health/", status.status_health, name="dashboard-status-health"),
    path("status/control/", status_actions.trading_control, name="dashboard-trading-control"),
    path("audit/", audit.audit, name="dashboard-audit"),
    path("onboarding/", onboarding.onboarding, name="dashboard-onboarding"),
]
