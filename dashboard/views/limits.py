"""The risk limits: every limit with its unit, editable by operators, each change audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from trading.models import RiskLimits
from trading.permissions import may_switch
from trading.services import update_risk_limits

DOLLARS, CONTRACTS, PRICE, FRACTION, MINUTES = "dollars", "contracts", "dollars per contract", "fraction", "minutes"
# Each editable limit, in the order an operator reads them, with the unit its number is in.
UNITS = {
    "max_order_contracts": CONTRACTS,
    "max_order_cost": DOLLARS,
    "min_price": PRICE,
    "max_price": PRICE,
    "max_depth_fraction": FRACTION,
    "max_position_contracts": CONTRACTS,
    "max_event_exposure": DOLLARS,
    "max_city_day_exposure": DOLLARS,
    "max_total_exposure": DOLLARS,
    "max_daily_loss": DOLLARS,
    "max_drawdown": DOLLARS,
    "max_data_age_minutes": MINUTES,
    "max_consecutive_exchange_errors": "errors in a row",
    "max_order_age_minutes": MINUTES,
    "kelly_fraction": FRACTION,
    "market_shrinkage": FRACTION,
    "min_edge": PRICE,
    "require_approval": "yes / no",
}
SWITCH_REFUSED = "Changing the risk limits needs the 'Can change trading state' permission."
# What the limits without a help text on the model do (trading.risk shrinks an order to fit each of them).
HELP = {
    "max_order_contracts": "A larger order is cut to this many contracts.",
    "max_order_cost": "An order is cut until its price and fee fit in this.",
    "max_position_contracts": "Contracts held in one market, the new order included.",
    "max_event_exposure": "Dollars at risk across the brackets of one event.",
    "max_city_day_exposure": "Dollars at risk in one city's markets for one day (highs and lows).",
    "max_total_exposure": "Dollars at risk across every open position.",
    "max_consecutive_exchange_errors": "This many exchange errors in a row trip the kill switch.",
    "kelly_fraction": "Share of the full Kelly stake the model strategies bet (0.25 = quarter Kelly).",
}


def plain(value: Any) -> Any:
    """A stored decimal as a person types it: 10, 0.05, 2.5 (never 10.000000 or 1E+1)."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


class RiskLimitsForm(forms.ModelForm[RiskLimits]):
    reason = forms.CharField(
        max_length=2000, required=False, help_text="Optional: kept in the audit trail with each changed limit."
    )

    class Meta:
        model = RiskLimits
        fields = list(UNITS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial = {name: plain(value) for name, value in self.initial.items()}
        for name, field in self.fields.items():
            if name in UNITS:
                field.widget.attrs.setdefault("aria-describedby", f"unit-{name}")
                field.help_text = field.help_text or HELP.get(name, "")


@dataclass(frozen=True)
class Row:
    field: forms.BoundField
    unit: str
    current: Any


@staff_member_required
@never_cache
def limits(request: HttpRequest) -> HttpResponse:
    """GET every limit with its unit and help; POST (operators) changes some, audited per field."""
    current = RiskLimits.load()
    can_edit = may_switch(request.user)
    form = RiskLimitsForm(instance=current)
    if request.method == "POST":
        if not can_edit:
            messages.error(request, f"Refused: {SWITCH_REFUSED} Nothing was changed.")
            return redirect("dashboard-limits")
        form = RiskLimitsForm(request.POST, instance=RiskLimits.load())
        if form.is_valid() and _save(request, form):
            return redirect("dashboard-limits")
        if form.errors:
            named = "; ".join(_field_errors(form))
            messages.error(request, f"Nothing was changed: {named}")
    rows = [Row(form[name], unit, getattr(current, name)) for name, unit in UNITS.items()]
    context = {"form": form, "rows": rows, "can_edit": can_edit, "limits": current, "switch_refused": SWITCH_REFUSED}
    return render(request, "dashboard/limits.html", context, status=400 if form.errors else 200)


def _save(request: HttpRequest, form: RiskLimitsForm) -> bool:
    """Apply the form through the one service the admin and the API use; False with form errors.

    Every limit is handed over: the service saves and records only those whose value differs.
    """
    before = RiskLimits.load()
    try:
        after = update_risk_limits(
            {name: form.cleaned_data[name] for name in UNITS},
            actor=request.user.get_username(),
            now=timezone.now(),
            via="dashboard",
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return False
    changed = [str(form.fields[name].label) for name in UNITS if getattr(after, name) != getattr(before, name)]
    if changed:
        messages.success(request, f"Saved: {', '.join(changed)}.")
    else:
        messages.info(request, "Nothing changed.")
    return True


def _field_errors(form: RiskLimitsForm) -> list[str]:
    shown = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "limits"
        shown.append(f"{label}: {' '.join(str(error) for error in errors)}")
    return shown
