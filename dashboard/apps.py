from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The trader's pages: what the system believes, what the market says, and what it did."""

    name = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"
