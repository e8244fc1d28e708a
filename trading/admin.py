from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template import RequestContext, Template
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from kalshiweb.admin import ReadOnlyAdmin, SingletonAdmin
from trading.brokers import BrokerUnavailable
from trading.models import (
    Account,
    DecisionLogEntry,
    Difference,
    Fill,
    Order,
    Position,
    Reconciliation,
    RiskLimitChange,
    RiskLimits,
    Settlement,
    TradingCycle,
    TradingState,
    TradingStateChange,
)
from trading.permissions import may_switch
from trading.services import (
    TradingStateError,
    approve_order,
    cancel_order,
    confirm_live_trading,
    reject_order,
    set_trading_state,
    update_risk_limits,
)

LIVE_CONFIRMATION = "LIVE"


def money(value: Decimal | None) -> str:
    """Dollars as an operator reads them: $1,234.56, -$3.20; empty when unknown."""
    if value is None:
        return ""
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def contracts(value: Decimal | None) -> str:
    """A contract count without the six stored decimals (fractional counts keep theirs)."""
    if value is None:
        return ""
    return f"{value.normalize():,f}"


def _column(field: str, label: str, fmt: Callable[[Decimal | None], str] = money) -> Callable[[Any], str]:
    """A list_display column showing ``field`` formatted, sortable by the field."""

    def show(obj: Any) -> str:
        return fmt(getattr(obj, field))

    show.short_description = label  # type: ignore[attr-defined]
    show.admin_order_field = field  # type: ignore[attr-defined]
    show.__name__ = f"{field}_display"
    return show


class TradingStateForm(forms.Form):
    state = forms.ChoiceField(choices=TradingState.State.choices, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(TradingState)
class TradingStateAdmin(SingletonAdmin):
    """The kill switch. The row is changed only through the buttons, which audit every change."""

    change_form_template = "admin/trading/tradingstate/change_form.html"
    readonly_fields = ["state", "reason", "changed_by", "changed_at", "live_confirmed_at", "live_confirmed_by"]

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
            ),
            path(
                "<int:pk>/confirm-live/",
                self.admin_site.admin_view(self.confirm_live_view),
                name="trading_tradingstate_confirm_live",
            ),
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
        state = TradingState.load()
        extra["live_confirmed"] = state.live_confirmed_at is not None
        extra["confirm_live_url"] = reverse("admin:trading_tradingstate_confirm_live", args=[state.pk])
        return super().change_view(request, object_id, form_url, extra)

    def confirm_live_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The operator's confirmation that LIVE may trade real money: needs the switch permission and typing LIVE."""
        state = get_object_or_404(TradingState, pk=pk)
        back = reverse("admin:trading_tradingstate_change", args=[pk])
        if not may_switch(request.user):
            self.message_user(request, "You do not have permission to confirm LIVE trading.", messages.ERROR)
            return HttpResponseRedirect(back)
        if request.method == "POST":
            if request.POST.get("confirmation", "").strip() != LIVE_CONFIRMATION:
                self.message_user(request, f"Type {LIVE_CONFIRMATION} to confirm; nothing was changed.", messages.ERROR)
                return HttpResponseRedirect(reverse("admin:trading_tradingstate_confirm_live", args=[pk]))
            confirm_live_trading(actor=request.user.get_username(), now=timezone.now())
            self.message_user(
                request,
                "LIVE trading confirmed. It still needs LIVE_TRADING_ARMED and a key, and trading resumed.",
                messages.WARNING,
            )
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": "Confirm LIVE trading",
            "state": state,
            "word": LIVE_CONFIRMATION,
            "back": back,
            "opts": self.model._meta,
        }
        return HttpResponse(_CONFIRM_LIVE.render(RequestContext(request, context)))

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


_CONFIRM_LIVE = Template(
    """{% extends "admin/base_site.html" %}
{% block content %}
<div class="module aligned" style="padding:1rem">
  <p><strong>LIVE trades real money on Kalshi.</strong> It trades only when LIVE_TRADING_ARMED is set, a production
  key is configured, trading is resumed, and an operator has confirmed here.</p>
  {% if state.live_confirmed_at %}<p>Last confirmed by {{ state.live_confirmed_by }} at
  {{ state.live_confirmed_at|date:"Y-m-d H:i" }} UTC.</p>{% endif %}
  <form method="post">{% csrf_token %}
    <label for="id_confirmation">Type <code>{{ word }}</code> to confirm:</label>
    <input type="text" name="confirmation" id="id_confirmation" autocomplete="off" required>
    <input type="submit" value="Confirm LIVE trading" class="default" style="background:#cf222e">
    <a href="{{ back }}">Cancel</a>
  </form>
</div>
{% endblock %}"""
)


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
        """Through the service the dashboard and the API use, so every change lands in the audit trail."""
        editable = RiskLimitChange.editable_fields()
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
        if changes:
            update_risk_limits(changes, actor=request.user.get_username(), now=timezone.now(), via="admin")


@admin.register(RiskLimitChange)
class RiskLimitChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "field", "old_value", "new_value", "actor", "via", "reason"]
    list_filter = ["via", "field"]
    search_fields = ["actor", "reason", "field"]
    date_hierarchy = "at"


def _may_trade(request: HttpRequest) -> bool:
    return may_switch(request.user)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "mode",
        "ticker",
        "book_side",
        _column("count", "count", contracts),
        _column("price", "price"),
        "status",
        _column("filled_count", "filled", contracts),
        _column("fees", "fees"),
    ]
    list_filter = ["mode", "status", "book_side", "time_in_force", "strategy"]
    search_fields = ["client_order_id", "exchange_order_id", "ticker"]
    date_hierarchy = "created_at"
    actions = ["approve_and_send", "reject", "cancel"]

    def has_trade_permission(self, request: HttpRequest) -> bool:
        """The one rule for switching trading (trading.permissions) also rules sending and cancelling orders."""
        return _may_trade(request)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Order], statuses: tuple[str, ...], verb: str, act: Any
    ) -> None:
        if not _may_trade(request):
            self.message_user(request, "You do not have permission to trade.", messages.ERROR)
            return
        done, skipped = 0, 0
        for order in queryset:
            if order.status not in statuses:
                skipped += 1
                continue
            try:
                after = act(order, actor=request.user.get_username(), now=timezone.now())
            except (TradingStateError, BrokerUnavailable) as exc:
                self.message_user(request, f"{order.client_order_id}: {exc}", messages.ERROR)
                continue
            done += 1
            self.message_user(request, f"{order.client_order_id}: {verb}, now {after.get_status_display().lower()}.")
        if skipped:
            self.message_user(request, f"{skipped} order(s) skipped: not {verb}-able in their state.", messages.WARNING)

    @admin.action(description="Approve and send", permissions=["trade"])
    def approve_and_send(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, (Order.Status.AWAITING_APPROVAL,), "approved", approve_order)

    @admin.action(description="Reject", permissions=["trade"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, (Order.Status.AWAITING_APPROVAL,), "rejected", reject_order)

    @admin.action(description="Cancel", permissions=["trade"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, (Order.Status.RESTING,), "cancelled", cancel_order)


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = [
        "created_time",
        "mode",
        "ticker",
        "book_side",
        _column("count", "count", contracts),
        _column("price", "price"),
        _column("fee", "fee"),
        "is_taker",
    ]
    list_filter = ["mode", "book_side", "is_taker"]
    search_fields = ["trade_id", "fill_id", "ticker", "order__client_order_id"]
    date_hierarchy = "created_time"


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = [
        "mode",
        "ticker",
        _column("yes_count", "YES", contracts),
        _column("no_count", "NO", contracts),
        _column("total_cost", "cost"),
        _column("realized_pnl", "realized P&L"),
        _column("fees_paid", "fees"),
        "settled",
        "updated_at",
    ]
    list_filter = ["mode", "settled"]
    search_fields = ["ticker"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = [
        "settled_time",
        "mode",
        "ticker",
        "result",
        _column("yes_count", "YES", contracts),
        _column("no_count", "NO", contracts),
        _column("revenue", "revenue"),
        _column("fees", "fees"),
    ]
    list_filter = ["mode", "result"]
    search_fields = ["ticker"]
    date_hierarchy = "settled_time"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = [
        "mode",
        _column("cash", "cash"),
        _column("peak_equity", "peak equity"),
        "consecutive_errors",
        "order_group_id",
        "balance_checked_at",
        "updated_at",
    ]


@admin.register(TradingCycle)
class TradingCycleAdmin(ReadOnlyAdmin):
    list_display = [
        "as_of",
        "mode",
        "strategy",
        "outcome",
        "events",
        "markets",
        "intents",
        "placed",
        "queued",
        "cancelled",
        "errors",
        "detail",
    ]
    list_filter = ["mode", "outcome", "strategy"]
    date_hierarchy = "as_of"


@admin.register(DecisionLogEntry)
class DecisionLogEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "mode",
        "strategy",
        "ticker",
        "verdict",
        "probability",
        "market_probability",
        "side",
        _column("price", "price"),
        _column("edge", "edge"),
        _column("size", "size", contracts),
        "reason",
    ]
    list_filter = ["mode", "verdict", "strategy"]
    search_fields = ["ticker", "event_ticker", "client_order_id"]
    date_hierarchy = "at"
    list_select_related = ["cycle"]


class DifferenceInline(admin.TabularInline[Difference, Reconciliation]):
    model = Difference
    fields = ["kind", "ticker", "reference", "ours", "theirs", "fix"]
    readonly_fields = ["kind", "ticker", "reference", "ours", "theirs", "fix"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "mode",
        "complete",
        "orders_checked",
        "fills_checked",
        "differences",
        "unresolved",
        _column("balance", "exchange balance"),
    ]
    list_filter = ["mode", "complete"]
    date_hierarchy = "started_at"
    inlines = [DifferenceInline]
