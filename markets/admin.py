from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kalshiweb.admin import BaseAdmin, ReadOnlyAdmin
from markets.forms import ApiCredentialForm
from markets.models import ApiCredential, Event, Market, OrderBookSnapshot, Series, Trade

LATEST_TRADES = 50


@admin.register(Series)
class SeriesAdmin(BaseAdmin):
    list_display = ["ticker", "title", "city", "measure", "fee_type", "fee_multiplier", "synced_at"]
    list_filter = ["measure", "fee_type", "category"]
    search_fields = ["ticker", "title"]
    autocomplete_fields = ["city"]
    readonly_fields = ["synced_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["event_ticker", "series", "target_date", "title", "synced_at"]
    list_filter = ["series"]
    search_fields = ["event_ticker", "title"]
    date_hierarchy = "target_date"


@admin.register(Market)
class MarketAdmin(ReadOnlyAdmin):
    list_display = [
        "ticker",
        "strike_type",
        "floor_strike",
        "cap_strike",
        "status",
        "result",
        "expiration_value",
        "close_time",
        "last_price",
    ]
    list_filter = ["status", "result", "strike_type", "event__series"]
    search_fields = ["ticker", "event__event_ticker", "yes_sub_title"]
    date_hierarchy = "close_time"
    list_select_related = ["event"]
    readonly_fields = ["latest_trades"]

    @admin.display(description=f"latest {LATEST_TRADES} trades")
    def latest_trades(self, market: Market) -> str:
        """The tape's newest prints (the Trade table, keyed by market and trade id, has no admin of its own)."""
        trades = Trade.objects.filter(market=market).order_by("-created_time")[:LATEST_TRADES]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((t.created_time, t.taker_side, t.count, t.yes_price, t.trade_id) for t in trades),
        )
        if not rows:
            return "no trades imported"
        header = "<tr><th>time</th><th>taker</th><th>count</th><th>YES price</th><th>trade id</th></tr>"
        return format_html("<table>{}{}</table>", mark_safe(header), rows)  # noqa: S308 - a constant


@admin.register(OrderBookSnapshot)
class OrderBookSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["market", "captured_at", "source", "seq"]
    list_filter = ["source"]
    search_fields = ["market__ticker"]
    date_hierarchy = "captured_at"
    list_select_related = ["market"]


@admin.register(ApiCredential)
class ApiCredentialAdmin(BaseAdmin):
    """API keys are write-only: the key id is masked and the private key is never rendered."""

    form = ApiCredentialForm
    list_display = ["name", "environment", "masked_key_id", "public_key_fingerprint", "is_active", "last_used_at"]
    list_filter = ["environment", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["masked_key_id", "public_key_fingerprint", "created_at", "updated_at", "last_used_at"]

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        secrets = ["new_key_id", "private_key_file", "private_key_pem"]
        if obj is None:
            return [(None, {"fields": ["name", "environment", "is_active", *secrets]})]
        return [
            (None, {"fields": ["name", "environment", "is_active"]}),
            ("Stored key", {"fields": ["masked_key_id", "public_key_fingerprint", "last_used_at", "updated_at"]}),
            ("Replace the key", {"fields": secrets, "classes": ["collapse"]}),
        ]

    @admin.display(description="Key id")
    def masked_key_id(self, obj: ApiCredential) -> str:
        return obj.masked_key_id
