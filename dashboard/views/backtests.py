"""Backtests: start one with parameters, follow its progress live, read its results, compare runs side by side.

The form validates with the API's serializer and starts with the same
function (backtesting.launch), so the page and the API accept the same runs.
A run's page follows it from ``backtest.progress`` events (and re-reads its
progress after a reconnect); once it has finished, the page shows its results.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from backtesting.launch import BacktestStartSerializer, may_start_backtests, start_backtest
from backtesting.management.commands.runbacktest import DEFAULT_TIMES
from backtesting.models import BacktestRun
from backtesting.report import verdict
from backtesting.services import DEFAULT_STRATEGY
from dashboard.views.backtest_figures import (
    METRIC_COLUMNS,
    city_names,
    city_rows,
    compare_charts,
    compare_table,
    metrics_rows,
    run_charts,
)
from markets.models import Series
from trading.limits import Limits
from trading.models import RiskLimits
from trading.strategies import STRATEGIES

RUNS_SHOWN = 50
LIMIT_PREFIX = "limits."  # DRF's dict fields read form inputs named like limits.max_price
COMPARED = (2, 4)  # at least, at most
LIST_FIELDS = ("metrics", "equity_curve", "params")  # megabytes for a long run: the list reads none of them


@staff_member_required
@never_cache
def backtests(request: HttpRequest) -> HttpResponse:
    """The latest runs (pick some to compare) and, for operators, the form that starts one."""
    allowed = may_start_backtests(request.user)
    if request.method == "POST":
        if not allowed:
            return HttpResponseForbidden("Starting a backtest needs the 'Can change trading state' permission.")
        given = BacktestStartSerializer(data=_filled(request.POST))
        if given.is_valid():
            run = start_backtest(given.to_request(), requested_by=request.user.get_username())
            return redirect("dashboard-backtest-detail", pk=run.pk)
        return _list_page(request, allowed, values=request.POST, errors=given.errors, status=400)
    return _list_page(request, allowed, values=None, errors={}, status=200)


def _filled(posted: QueryDict) -> QueryDict:
    """The form without the risk limits left blank (blank: keep the operators' current limit)."""
    data = posted.copy()
    for key in [k for k in data if k.startswith(LIMIT_PREFIX) and not data.get(k, "").strip()]:
        del data[key]
    return data


@dataclass(frozen=True)
class LimitField:
    name: str  # the input's name: limits.<Limits field>
    label: str
    current: str
    value: str  # what was posted, after an error


def _limit_fields(posted: Any) -> list[LimitField]:
    """An input per risk limit, showing the operators' current value; durations in minutes."""
    current = RiskLimits.load().limits()
    found = []
    for spec in fields(Limits):
        value = getattr(current, spec.name)
        minutes = isinstance(value, timedelta)
        shown = f"{value.total_seconds() / 60:g}" if minutes else f"{value.normalize():f}"
        label = spec.name.replace("_", " ").capitalize() + (" (minutes)" if minutes else "")
        name = LIMIT_PREFIX + spec.name
        found.append(LimitField(name, label, shown, posted.get(name, "") if posted is not None else ""))
    return found


def _list_page(
    request: HttpRequest, allowed: bool, *, values: Any, errors: dict[str, Any], status: int
) -> HttpResponse:
    runs = list(BacktestRun.objects.defer(*LIST_FIELDS).order_by("-created_at", "-id")[:RUNS_SHOWN])
    context = {
        "runs": runs,
        "may_start": allowed,
        "form": _form_values(values),
        "errors": {name: _messages(found) for name, found in errors.items()},
        "series_choices": _series_choices(),
        "strategy_choices": list(STRATEGIES),
        "limit_fields": _limit_fields(values),
    }
    return render(request, "dashboard/backtests.html", context, status=status)


def _messages(found: Any) -> list[str]:
    """A field's errors as sentences; a dict field's (the risk limits) name the entry."""
    if isinstance(found, dict):
        return [f"{name}: {message}" for name, inner in found.items() for message in _messages(inner)]
    return [str(e) for e in found] if isinstance(found, list) else [str(found)]


def _form_values(posted: Any) -> dict[str, Any]:
    """What the form shows: what was posted (after an error), else the defaults."""
    if posted is not None:
        values = {key: posted.get(key, "") for key in posted}
        values["series"] = posted.getlist("series")
        values["strategies"] = posted.getlist("strategies")
        values["compare_naive"] = bool(posted.get("compare_naive"))
        values["walk_forward"] = bool(posted.get("walk_forward"))
        return values
    end = timezone.now().date() - timedelta(days=1)
    return {
        "start_date": (end - timedelta(days=30)).isoformat(),
        "end_date": end.isoformat(),
        "series": [],
        "strategies": [DEFAULT_STRATEGY],
        "decision_times": DEFAULT_TIMES,
        "bankroll": "1000",
        "fill_window_minutes": "15",
        "quote_window_minutes": "60",
        "compare_naive": True,
        "walk_forward": False,
    }


def _series_choices() -> list[tuple[str, str]]:
    found = Series.objects.filter(city__isnull=False, measure=Series.Measure.HIGH).select_related("city")
    return [(s.ticker, f"{s.city.name if s.city else s.ticker} ({s.ticker})") for s in found.order_by("ticker")]


@staff_member_required
@never_cache
def backtest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: its parameters and live progress, and once it has succeeded, its results and plots."""
    run = get_object_or_404(BacktestRun, pk=pk)
    context: dict[str, Any] = {"run": run, "statuses": dict(BacktestRun.Status.choices)}
    if run.status == BacktestRun.Status.SUCCEEDED:
        names = city_names([run])
        context |= {
            "columns": METRIC_COLUMNS,
            "rows": metrics_rows(run.metrics),
            "city_rows": city_rows(run.metrics, names),
            "verdict": verdict(run.metrics),
            "charts": run_charts(run, names),
            "calibration_note": (
                "Model and market: every bracket at every decision with a known result "
                f"({run.metrics.get('calibration', {}).get('n_events', 0):,} event decisions). Our fills: the "
                "probability each was sized on against the share that paid."
            ),
        }
    return render(request, "dashboard/backtest_detail.html", context)


@staff_member_required
@never_cache
def backtest_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment (htmx, after a reconnect or as the slow fallback); a finished run reloads the page."""
    run = get_object_or_404(BacktestRun.objects.defer(*LIST_FIELDS), pk=pk)
    response = render(request, "dashboard/backtest_progress.html", {"run": run})
    if run.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the results are a whole page: load it
    return response


@staff_member_required
@never_cache
def backtest_compare(request: HttpRequest) -> HttpResponse:
    """Two to four finished runs side by side: metrics, and overlaid equity, drawdown, calibration and cities."""
    ids = [int(pk) for pk in request.GET.getlist("run") if pk.isdigit()]
    low, high = COMPARED
    if not ids and "run" not in request.GET:
        return _compare_choice(request, problem="", status=200)  # nothing asked yet: offer the runs
    if not low <= len(set(ids)) <= high:
        return _compare_choice(request, problem=f"Choose {low} to {high} runs to compare.", status=400)
    found = {r.pk: r for r in BacktestRun.objects.filter(pk__in=ids, status=BacktestRun.Status.SUCCEEDED)}
    missing = [str(pk) for pk in dict.fromkeys(ids) if pk not in found]
    if missing:
        problem = f"Only succeeded runs can be compared; not: {', '.join(missing)}."
        return _compare_choice(request, problem=problem, status=400)
    runs = [found[pk] for pk in dict.fromkeys(ids)]
    names = city_names(runs)
    context = {
        "runs": runs,
        "table": compare_table(runs),
        "charts": compare_charts(runs, names),
        "calibration_note": "Each run's model (solid) and market (dashed) at every bracket of every decision with a "
        "known result, and its fills (dotted): the probability each was sized on against the share that paid.",
    }
    return render(request, "dashboard/backtest_compare.html", context)


def _compare_choice(request: HttpRequest, *, problem: str, status: int) -> HttpResponse:
    """The succeeded runs to choose from, and what was wrong with the last choice."""
    choices = BacktestRun.objects.filter(status=BacktestRun.Status.SUCCEEDED).defer(*LIST_FIELDS)
    context = {"runs": [], "problem": problem, "choices": list(choices.order_by("-created_at", "-id")[:RUNS_SHOWN])}
    return render(request, "dashboard/backtest_compare.html", context, status=status)
