"""Starting a backtest from the dashboard or the API: validate what was asked, store a pending run, enqueue it.

The page and the API validate with the same serializer and start with the
same :func:`start_backtest`, so both accept and refuse the same requests with
the same field errors. What the run will do is stored with it (the
``parameters`` of the request, risk limits included, as they stood when it
was started); the task rebuilds the request from them with :func:`request_for`,
so a run started before an operator edits the limits still uses the old ones.
"""

from __future__ import annotations

import logging
import re
from argparse import ArgumentTypeError
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from rest_framework import serializers

from backtesting.management.commands.runbacktest import DEFAULT_TIMES, decision_times
from backtesting.models import BacktestRun
from backtesting.services import DEFAULT_STRATEGY, BacktestRequest, parameters
from prediction.management.series import daily_high_series
from trading.limits import Limits, Sizing
from trading.models import RiskLimits
from trading.permissions import may_switch
from trading.strategies import STRATEGIES

logger = logging.getLogger(__name__)

MAX_DAYS = 731  # two years of history: longer runs belong to runbacktest in a shell
START_PERMISSION = "backtesting.add_backtestrun"


def may_start_backtests(user: Any) -> bool:
    """Staff who may switch trading (the operators) or hold the 'Can add backtest run' permission."""
    has_perm = getattr(user, "has_perm", None)
    return may_switch(user) or bool(
        user.is_active and getattr(user, "is_staff", False) and has_perm and has_perm(START_PERMISSION)
    )


class BacktestStartSerializer(serializers.Serializer[dict[str, Any]]):
    """What a backtest may be started with; risk limits are the operators' current ones."""

    start_date = serializers.DateField(help_text="First climate day.")
    end_date = serializers.DateField(help_text="Last climate day.")
    series = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        help_text="Series tickers (cities); none means every daily-high series with events in the range.",
    )
    strategies = serializers.MultipleChoiceField(
        choices=list(STRATEGIES), required=False, help_text=f"One or several; default {DEFAULT_STRATEGY}."
    )
    decision_times = serializers.CharField(
        max_length=200, default=DEFAULT_TIMES, help_text="Local clock times; '-1' is the evening before."
    )
    bankroll = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal(1), default=Decimal(1000), help_text="Dollars per strategy."
    )
    fill_window_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, default=15)
    quote_window_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, default=60)
    min_edge = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1), required=False, allow_null=True
    )
    kelly_fraction = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=Decimal("0.0001"), max_value=Decimal(1), required=False,
        allow_null=True,
    )  # fmt: skip
    margin = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1), required=False, allow_null=True,
        help_text="model-maker: dollars below fair value to bid.",
    )  # fmt: skip
    limits = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=6, min_value=Decimal(0)),
        required=False,
        help_text="Risk limits to override for this run, by name (max_data_age in minutes); the rest are the "
        "operators' current ones.",
    )
    walk_forward = serializers.BooleanField(default=False, help_text="Choose parameters month by month.")
    compare_naive = serializers.BooleanField(default=True, help_text="Also replay under naive fills, to compare.")

    def validate_decision_times(self, value: str) -> str:
        try:
            decision_times(value)
        except ArgumentTypeError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start_date"], attrs["end_date"]
        if end < start:
            raise serializers.ValidationError({"end_date": ["The end date must not be before the start date."]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"end_date": [f"At most {MAX_DAYS} days in one run."]})
        try:
            attrs["series_found"] = daily_high_series(attrs.get("series") or None, start, end)
        except CommandError as exc:
            raise serializers.ValidationError({"series": [str(exc)]}) from None
        attrs["limits_found"] = overridden(RiskLimits.load().limits(), attrs.get("limits") or {})
        return attrs

    def to_request(self) -> BacktestRequest:
        """The validated data as a request, with the operators' current risk limits and sizing."""
        data = self.validated_data
        sizing = RiskLimits.load().sizing()
        for name in ("min_edge", "kelly_fraction"):
            if data.get(name) is not None:
                sizing = replace(sizing, **{name: data[name]})
        chosen = set(data.get("strategies") or [DEFAULT_STRATEGY])
        return BacktestRequest(
            start=data["start_date"],
            end=data["end_date"],
            series=data["series_found"],
            strategies=[name for name in STRATEGIES if name in chosen],
            decision_times=decision_times(data["decision_times"]),
            bankroll=data["bankroll"],
            limits=data["limits_found"],
            sizing=sizing,
            params={"margin": data["margin"]} if data.get("margin") is not None else {},
            fill_window=timedelta(minutes=data["fill_window_minutes"]),
            quote_window=timedelta(minutes=data["quote_window_minutes"]),
            compare_naive=data["compare_naive"],
            walk_forward=data["walk_forward"],
        )


def overridden(limits: Limits, overrides: dict[str, Decimal]) -> Limits:
    """``limits`` with some replaced (durations given in minutes); a ValidationError names what cannot be."""
    known = {f.name for f in fields(Limits)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise serializers.ValidationError(
            {"limits": [f"Unknown risk limit {', '.join(unknown)}; the limits are {', '.join(sorted(known))}."]}
        )
    changed: dict[str, Any] = {
        name: timedelta(minutes=float(value)) if isinstance(getattr(limits, name), timedelta) else value
        for name, value in overrides.items()
    }
    result = replace(limits, **changed)
    if not Decimal(0) < result.min_price < result.max_price < Decimal(1):
        raise serializers.ValidationError({"limits": ["Need 0 < min_price < max_price < 1."]})
    return result


def start_backtest(request: BacktestRequest, *, requested_by: str) -> BacktestRun:
    """Store a pending run of ``request`` and enqueue its task once the run is committed."""
    from backtesting.tasks import run_backtest_task

    run = BacktestRun.objects.create(
        status=BacktestRun.Status.PENDING,
        start_date=request.start,
        end_date=request.end,
        series=[s.ticker for s in request.series],
        strategy=",".join(request.strategies),
        fill_model=parameters(request)["fill_model"],
        params=parameters(request),
        requested_by=requested_by,
        progress_message="Waiting for a worker",
    )
    transaction.on_commit(lambda: _enqueue(run, run_backtest_task))
    return run


def _enqueue(run: BacktestRun, task: Any) -> None:
    """Hand the run to a worker; if the broker cannot take it, the run fails saying so instead of waiting forever."""
    try:
        task.delay(run.pk)
    except Exception as exc:  # the broker's errors vary with the transport (Redis, memory)
        logger.exception("Could not enqueue backtest run %s", run.pk)
        BacktestRun.objects.filter(pk=run.pk, status=BacktestRun.Status.PENDING).update(
            status=BacktestRun.Status.FAILED,
            error=f"Could not hand the run to a worker: {exc}",
            progress_message="Failed: no worker could be reached",
        )


def request_for(run: BacktestRun) -> BacktestRequest:
    """The request a pending run was started with, rebuilt from its stored parameters."""
    params = run.params
    start, end = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    defaults = Limits()
    limits: dict[str, Any] = {
        name: _duration(text) if isinstance(getattr(defaults, name), timedelta) else Decimal(text)
        for name, text in params["limits"].items()
    }
    try:
        series = daily_high_series(params["series"], start, end)
    except CommandError as exc:
        raise ValueError(str(exc)) from None
    return BacktestRequest(
        start=start,
        end=end,
        series=series,
        strategies=list(params["strategies"]),
        decision_times=decision_times(",".join(params["decision_times"])),
        bankroll=Decimal(params["bankroll"]),
        limits=Limits(**limits),
        sizing=Sizing(**{name: Decimal(value) for name, value in params["sizing"].items()}),
        params={name: Decimal(value) for name, value in params["strategy_params"].items()},
        fill_window=timedelta(minutes=params["fill_window_minutes"]),
        quote_window=timedelta(minutes=params["quote_window_minutes"]),
        compare_naive=params.get("compare_naive", True),
        walk_forward=params["walk_forward"],
    )


_DURATION = re.compile(r"^(?:(?P<days>-?\d+) days?, )?(?P<hours>\d+):(?P<minutes>\d\d):(?P<seconds>\d\d(?:\.\d+)?)$")


def _duration(text: str) -> timedelta:
    """``str(timedelta)`` read back: '6:00:00', '1 day, 2:30:00'."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(
        days=int(found["days"] or 0),
        hours=int(found["hours"]),
        minutes=int(found["minutes"]),
        seconds=float(found["seconds"]),
    )
