from __future__ import annotations

from django.urls import path

from dashboard.views import (
    audit,
    backtests,
    decisions,
    fills,
    limits,
    markets,
    models,
    onboarding,
    pnl,
    positions,
    postmortem,
    status,
    status_actions,
)

urlpatterns = [
    path("markets/", markets.markets_today, name="dashboard-markets"),
    path("positions/", positions.positions, name="dashboard-positions"),
    path("fills/", fills.fills, name="dashboard-fills"),
    path("pnl/", pnl.pnl, name="dashboard-pnl"),
    path("decisions/", decisions.decisions, name="dashboard-decisions"),
    path("postmortem/", postmortem.postmortems, name="dashboard-postmortem"),
    path("postmortem/<int:pk>/", postmortem.postmortem_detail, name="dashboard-postmortem-detail"),
    path("status/health/", status.status_health, name="dashboard-status-health"),
    path("status/control/", status_actions.trading_control, name="dashboard-trading-control"),
    path("limits/", limits.limits, name="dashboard-limits"),
    path("audit/", audit.audit, name="dashboard-audit"),
    path("onboarding/", onboarding.onboarding, name="dashboard-onboarding"),
    path("models/", models.models, name="dashboard-models"),
    path("backtests/", backtests.backtests, name="dashboard-backtests"),
    path("backtests/compare/", backtests.backtest_compare, name="dashboard-backtest-compare"),
    path("backtests/<int:pk>/", backtests.backtest_detail, name="dashboard-backtest-detail"),
    path("backtests/<int:pk>/progress/", backtests.backtest_progress, name="dashboard-backtest-progress"),
]
