from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from kalshiweb.admin import ReadOnlyAdmin
from weather.models import City, ForecastSnapshot, Observation


@admin.register(City)
class CityAdmin(admin.ModelAdmin[City]):
    list_display = [
        "name",
        "high_series_ticker",
        "low_series_ticker",
        "station_icao",
        "nws_cli_code",
        "timezone",
        "station_verified",
        "is_active",
    ]
    list_filter = ["is_active", "station_verified", "timezone"]
    search_fields = ["name", "high_series_ticker", "low_series_ticker", "station_icao", "station_name", "ghcn_id"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        ("Kalshi", {"fields": ["high_series_ticker", "low_series_ticker"]}),
        (
            "Settlement station",
            {
                "fields": [
                    "station_icao",
                    "station_name",
                    "nws_cli_code",
                    "nws_cli_office",
                    "ghcn_id",
                    "station_verified",
                    "station_source",
                ]
            },
        ),
        ("Location", {"fields": ["latitude", "longitude", "elevation_m", "timezone", "standard_utc_offset_minutes"]}),
        ("NWS forecast grid", {"fields": ["nws_grid_office", "nws_grid_x", "nws_grid_y"]}),
        ("Notes", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    @admin.action(description="Activate selected cities (verified stations only)")
    def activate(self, request: HttpRequest, queryset: QuerySet[City]) -> None:
        unverified = list(queryset.filter(station_verified=False).values_list("name", flat=True))
        updated = queryset.filter(station_verified=True).update(is_active=True)
        self.message_user(request, f"Activated {updated} cities.")
        if unverified:
            self.message_user(
                request,
                "Not activated, settlement station unverified: " + ", ".join(unverified),
                level=messages.WARNING,
            )

    @admin.action(description="Deactivate selected cities")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[City]) -> None:
        self.message_user(request, f"Deactivated {queryset.update(is_active=False)} cities.")


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["city", "target_date", "source", "model", "high_f", "low_f", "issued_at", "available_at"]
    list_filter = ["source", "city"]
    search_fields = ["city__name", "model"]
    date_hierarchy = "target_date"
    list_select_related = ["city"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    list_display = ["city", "date", "source", "high_f", "low_f", "is_final", "reported_at"]
    list_filter = ["source", "is_final", "city"]
    search_fields = ["city__name"]
    date_hierarchy = "date"
    list_select_related = ["city"]
