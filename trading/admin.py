from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from kalshiweb.admin import ReadOnlyAdmin, SingletonAdmin
from trading.models import Fill, Order, Position, RiskLimits, Settlement, TradingState, TradingStateChange
from trading.permissions import may_switch
from trading.services import TradingStateError, set_trading_state


class TradingStateForm(forms.Form):
    state = forms.ChoiceField(choices=TradingState.State.choices, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(TradingState)
class TradingStateAdmin(SingletonAdmin):
    """The kill switch. The row is changed only through the buttons, which audit every change."""

    change_form_template = "admin/trading/tradingstate/change_form.html"
    readonly_fields = ["state", "reason", "changed_by", "changed_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # view-only form; state changes go through set_state_view

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_staff

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:pk>/set-state/",
                self.admin_site.admin_view(self.set_state_view),
                name="trading_tradingstate_set_state",
            )
        ]
        return custom + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            "state_form": TradingStateForm(),
            "state_choices": TradingState.State.choices,
            "recent_changes": TradingStateChange.objects.all()[:20],
            "can_switch": may_switch(request.user),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def set_state_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        get_object_or_404(TradingState, pk=pk)
        back = reverse("admin:trading_tradingstate_change", args=[pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        if not may_switch(request.user):
            self.message_user(request, "You do not have permission to change the trading state.", messages.ERROR)
            return HttpResponseRedirect(back)
        form = TradingStateForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Give a reason for the change.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            state = set_trading_state(
                state=form.cleaned_data["state"],
                reason=form.cleaned_data["reason"],
                actor=request.user.get_username(),
                now=timezone.now(),
            )
        except TradingStateError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            level = messages.SUCCESS if state.state == TradingState.State.ACTIVE else messages.WARNING
            self.message_user(request, f"Trading is now {state.get_state_display().lower()}.", level)
        return HttpResponseRedirect(back)


@admin.register(TradingStateChange)
class TradingStateChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "from_state", "to_state", "actor", "reason"]
    list_filter = ["to_state"]
    search_fields = ["actor", "reason"]
    date_hierarchy = "at"


@admin.register(RiskLimits)
class RiskLimitsAdmin(SingletonAdmin):
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        (
            "Per order",
            {"fields": ["max_order_contracts", "max_order_cost", "min_price", "max_price", "max_depth_fraction"]},
        ),
        (
            "Exposure",
            {"fields": ["max_position_contracts", "max_event_exposure", "max_city_day_exposure", "max_total_exposure"]},
        ),
        (
            "Kill-switch triggers",
            {"fields": ["max_daily_loss", "max_drawdown", "max_data_age_minutes", "max_consecutive_exchange_errors"]},
        ),
        ("Sizing", {"fields": ["kelly_fraction", "market_shrinkage", "min_edge"]}),
        (None, {"fields": ["updated_at", "updated_by"]}),
    ]

    def save_model(self, request: HttpRequest, obj: RiskLimits, form: Any, change: bool) -> None:
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "mode", "ticker", "book_side", "count", "price", "status", "filled_count", "fees"]
    list_filter = ["mode", "status", "book_side", "time_in_force", "strategy"]
    search_fields = ["client_order_id", "exchange_order_id", "ticker"]
    date_hierarchy = "created_at"


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ["created_time", "mode", "ticker", "book_side", "count", "price", "fee", "is_taker"]
    list_filter = ["mode", "book_side", "is_taker"]
    search_fields = ["trade_id", "fill_id", "ticker", "order__client_order_id"]
    date_hierarchy = "created_time"


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ["mode", "ticker", "yes_count", "no_count", "total_cost", "realized_pnl", "fees_paid", "updated_at"]
    list_filter = ["mode"]
    search_fields = ["ticker"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["settled_time", "mode", "ticker", "result", "yes_count", "no_count", "revenue", "fees"]
    list_filter = ["mode", "result"]
    search_fields = ["ticker"]
    date_hierarchy = "settled_time"
