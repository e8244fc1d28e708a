from __future__ import annotations

from django.urls import path

from dashboard.views import fills, markets, positions

urlpatterns = [
    path("markets/", markets.markets_today, name="dashboard-markets"),
    path("positions/", positions.positions, name="dashboard-positions"),
    path("fills/", fills.fills, name="dashboard-fills"),
]
