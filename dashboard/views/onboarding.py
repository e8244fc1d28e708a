"""First-run onboarding: connect the Kalshi keys (DEMO first, with a test call), choose cities, see DRY results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from dashboard.views.onboarding_steps import check_connection, setup_steps
from markets.forms import ApiCredentialForm
from markets.models import ApiCredential
from trading.brokers import BrokerUnavailable
from trading.cycle import run_trading_cycle
from trading.permissions import may_switch
from weather.models import City

# Each step's permission: the admin's own for keys and cities, the trading permission for a cycle.
KEYS_PERMISSION = "markets.add_apicredential"
CITIES_PERMISSION = "weather.change_city"
REFUSED = {
    "add_key": "Adding a Kalshi key needs the 'Can add API credential' permission.",
    "test_key": "Testing a Kalshi key needs the 'Can add API credential' permission.",
    "cities": "Choosing cities needs the 'Can change city' permission.",
    "dry_cycle": "Running a trading cycle needs the 'Can change trading state' permission.",
}


@staff_member_required
@never_cache
def onboarding(request: HttpRequest) -> HttpResponse:
    """GET the three steps with what is done; POST action=add_key|test_key|cities|dry_cycle."""
    form = ApiCredentialForm(initial={"environment": ApiCredential.Environment.DEMO, "is_active": True})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in REFUSED:
            messages.error(request, f"Unknown action {action!r}: nothing was changed.")
            return redirect("dashboard-onboarding")
        if not _allowed(request, action):
            messages.error(request, f"Refused: {REFUSED[action]}")
            return redirect("dashboard-onboarding")
        if action != "add_key":
            ACTIONS[action](request)
            return redirect("dashboard-onboarding")
        form = ApiCredentialForm(request.POST, request.FILES)
        if _add_key(request, form):
            return redirect("dashboard-onboarding")
    return render(request, "dashboard/onboarding.html", _context(request, form), status=400 if form.errors else 200)


def _allowed(request: HttpRequest, action: str) -> bool:
    user: Any = request.user
    if action in ("add_key", "test_key"):
        return bool(user.has_perm(KEYS_PERMISSION))
    if action == "cities":
        return bool(user.has_perm(CITIES_PERMISSION))
    return may_switch(user)


def _context(request: HttpRequest, form: ApiCredentialForm) -> dict[str, Any]:
    mode = str(settings.TRADING_MODE)
    return {
        "steps": setup_steps(mode=mode),
        "form": form,
        "credentials": ApiCredential.objects.order_by("environment", "name"),
        "cities": City.objects.order_by("-is_active", "name"),
        "may_keys": request.user.has_perm(KEYS_PERMISSION),
        "may_cities": request.user.has_perm(CITIES_PERMISSION),
        "may_cycle": may_switch(request.user) and mode == "DRY",
        "refused": REFUSED,
    }


def _add_key(request: HttpRequest, form: ApiCredentialForm) -> bool:
    """Store a key through the admin's form (validated, encrypted); True when stored."""
    if not form.is_valid():
        # Shown again with its errors; the form's key box never renders what was pasted.
        messages.error(request, "The key was not stored: correct the fields marked below.")
        return False
    credential = form.save()
    messages.success(
        request,
        f"Stored {credential.get_environment_display()} key {credential.masked_key_id} "
        f"({credential.public_key_fingerprint}). Test the connection next.",
    )
    return True


def _test_key(request: HttpRequest) -> None:
    pk = _int(request.POST.get("credential"))
    credential = ApiCredential.objects.filter(pk=pk).first() if pk is not None else None
    if credential is None:
        messages.error(request, "Choose a stored key to test.")
        return
    result = check_connection(credential, now=timezone.now())
    (messages.success if result.ok else messages.error)(request, result.text)


def _choose_cities(request: HttpRequest) -> None:
    """Activate the chosen cities (verified settlement stations only, as the admin does) and deactivate the rest."""
    chosen = {int(pk) for pk in request.POST.getlist("city") if pk.isdigit()}
    with transaction.atomic():
        refused = list(City.objects.filter(pk__in=chosen, station_verified=False).values_list("name", flat=True))
        City.objects.filter(pk__in=chosen, station_verified=True).update(is_active=True)
        City.objects.exclude(pk__in=chosen).update(is_active=False)
    active = list(City.objects.active().order_by("name").values_list("name", flat=True))
    cities = "city" if len(active) == 1 else "cities"
    messages.success(request, f"{len(active)} active {cities}: {', '.join(active) or 'none'}.")
    if refused:
        messages.warning(request, "Not activated, settlement station unverified: " + ", ".join(refused) + ".")


def _dry_cycle(request: HttpRequest) -> None:
    """One DRY trading cycle now, through the function the beat task runs."""
    if settings.TRADING_MODE != "DRY":
        messages.error(request, f"This installation trades {settings.TRADING_MODE}: only a DRY cycle runs from here.")
        return
    try:
        cycle = run_trading_cycle(now=timezone.now())
    except BrokerUnavailable as exc:
        messages.error(request, f"No cycle ran: {exc}")
        return
    text = (
        f"DRY cycle at {cycle.as_of:%H:%M:%S} UTC: {cycle.get_outcome_display().lower()}; "
        f"{cycle.markets} markets, {cycle.intents} intents, {cycle.placed} paper orders placed."
    )
    if cycle.detail:
        text += f" {cycle.detail}"
    (messages.success if cycle.outcome == cycle.Outcome.DONE else messages.warning)(request, text)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# add_key is the view's own: a form with errors is shown again, not redirected.
ACTIONS: dict[str, Callable[[HttpRequest], None]] = {
    "test_key": _test_key,
    "cities": _choose_cities,
    "dry_cycle": _dry_cycle,
}
