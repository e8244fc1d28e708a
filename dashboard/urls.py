from __future__ import annotations

from django.urls import path

from dashboard import views

urlpatterns = [
    path("markets/", views.markets_today, name="dashboard-markets"),
    path("positions/", views.positions, name="dashboard-positions"),
    path("fills/", views.fills, name="dashboard-fills"),
]
