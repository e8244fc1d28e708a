"""The status page's buttons: halt, stop new entries, resume, cancel all working orders.

Each goes through trading.services (the admin, the API and the command use
the same functions), needs the one trading permission, and says what
happened as the database tells it afterwards, never what was merely asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.views.status import CANCELLABLE, SWITCH_REFUSED
from markets.credentials import CredentialError
from markets.errors import KalshiError
from trading.brokers import BrokerUnavailable
from trading.models import Order, TradingState
from trading.permissions import may_switch
from trading.services import TradingStateError, cancel_working_orders, set_trading_state, trading_gate

State = TradingState.State
STATES = {"halt": State.HALTED, "reduce_only": State.REDUCE_ONLY, "resume": State.ACTIVE}
DEFAULT_REASONS = {
    "halt": "Halted from the status page (no reason given).",
    "reduce_only": "New entries stopped from the status page (no reason given).",
    "resume": "Resumed from the status page (no reason given).",
}


@staff_member_required
@require_POST
def trading_control(request: HttpRequest) -> HttpResponse:
    """POST action=halt|reduce_only|resume|cancel_all (and an optional reason); back to the status page."""
    if not may_switch(request.user):
        messages.error(request, f"Refused: {SWITCH_REFUSED}")
        return redirect("home")
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()
    actor, now = request.user.get_username(), timezone.now()
    if action == "cancel_all":
        _cancel_all(request, reason=reason or f"cancelled by {actor} from the status page", now=now)
    elif action in STATES:
        _switch(request, action, reason=reason or DEFAULT_REASONS[action], actor=actor, now=now)
    else:
        messages.error(request, f"Unknown action {action!r}: nothing was changed.")
    return redirect("home")


def _working_ids(mode: str) -> list[int]:
    return list(Order.objects.filter(mode=mode, status__in=CANCELLABLE).values_list("pk", flat=True))


def _cancelled_of(ids: list[int]) -> int:
    return Order.objects.filter(pk__in=ids, status=Order.Status.CANCELED).count()


def _switch(request: HttpRequest, action: str, *, reason: str, actor: str, now: datetime) -> None:
    """Move the kill switch; a halt also cancels the working orders (trading.services does it once committed)."""
    working = _working_ids(str(settings.TRADING_MODE))
    before = TradingState.load().state
    try:
        state = set_trading_state(state=STATES[action], reason=reason, actor=actor, now=now)
    except TradingStateError as exc:
        messages.error(request, f"Nothing was changed: {exc}")
        return
    label = state.get_state_display()
    said = f"{label}." if before != state.state else f"Trading was already {label.lower()}; the reason is updated."
    report: Callable[[HttpRequest, str], None] = messages.success
    if state.state == State.HALTED:
        said += " " + _cancelled_text(working)
        if _cancelled_of(working) < len(working):
            report = messages.warning
    elif state.state == State.REDUCE_ONLY:
        said += " No new positions are opened; working orders stay until they fill, expire or are cancelled."
    else:
        gate = trading_gate(now=now)
        if not gate.may_open_positions:
            said += " New positions are still blocked: " + "; ".join(gate.reasons) + "."
            report = messages.warning
    report(request, said)


def _cancelled_text(working: list[int]) -> str:
    if not working:
        return "There were no working orders to cancel."
    cancelled = _cancelled_of(working)
    text = f"{cancelled} of {len(working)} working orders cancelled."
    if cancelled < len(working):
        text += (
            " The rest still work (each order's reason on the positions page says why):"
            " retry, or cancel them at the exchange."
        )
    return text


def _cancel_all(request: HttpRequest, *, reason: str, now: datetime) -> None:
    working = _working_ids(str(settings.TRADING_MODE))
    if not working:
        messages.info(request, "There were no working orders to cancel.")
        return
    try:
        cancel_working_orders(reason=reason, now=now)
    except (BrokerUnavailable, CredentialError, KalshiError) as exc:
        # Some may have been cancelled before the failure: the count says how many.
        messages.error(request, f"{_cancelled_of(working)} of {len(working)} working orders cancelled, then: {exc}")
        return
    text = _cancelled_text(working)
    (messages.success if _cancelled_of(working) == len(working) else messages.warning)(request, text)
