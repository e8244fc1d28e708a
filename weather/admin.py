from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from kalshiweb.admin import BaseAdmin, ReadOnlyAdmin
from kalshiweb.masking import mask_tail
from weather.forms import WeatherApiKeyForm
from weather.models import (
    City,
    ForecastSnapshot,
    Observation,
    RunningExtreme,
    SourceAccuracy,
    SourceHealth,
    WeatherApiKey,
)


@admin.register(City)
class CityAdmin(BaseAdmin):
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
    list_display = [
        "city",
        "target_date",
        "source",
        "model",
        "quantity",
        "high_f",
        "low_f",
        "n_hours",
        "issued_at",
        "available_at",
    ]
    list_filter = ["source", "quantity", "city"]
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


@admin.register(RunningExtreme)
class RunningExtremeAdmin(ReadOnlyAdmin):
    list_display = ["city", "date", "observed_at", "max_f", "min_f", "n_observations", "recorded_at"]
    list_filter = ["city"]
    date_hierarchy = "date"
    list_select_related = ["city"]


@admin.register(SourceHealth)
class SourceHealthAdmin(ReadOnlyAdmin):
    list_display = [
        "source",
        "last_success_at",
        "consecutive_failures",
        "last_latency_ms",
        "last_stored",
        "last_rejected",
        "last_failure_at",
    ]


@admin.register(SourceAccuracy)
class SourceAccuracyAdmin(ReadOnlyAdmin):
    list_display = ["city", "source", "model", "lead_days", "window_days", "as_of", "n", "mae_f", "bias_f"]
    list_filter = ["city", "source", "window_days", "lead_days"]
    date_hierarchy = "as_of"
    list_select_related = ["city"]


@admin.register(WeatherApiKey)
class WeatherApiKeyAdmin(BaseAdmin):
    """Keys are write-only: the list and the form show only the last characters."""

    form = WeatherApiKeyForm
    list_display = ["provider", "masked_key", "is_active", "updated_at"]
    readonly_fields = ["masked_key", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ["provider", "is_active", "new_key"]
        return ["provider", "is_active", "masked_key", "new_key", "updated_at"]

    @admin.display(description="Key")
    def masked_key(self, obj: WeatherApiKey) -> str:
        return mask_tail(obj.api_key)
