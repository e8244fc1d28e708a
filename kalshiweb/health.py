"""Component health: what /health/ reports and the dashboard shows.

Each check returns ok, warn or fail with a human-readable detail. A failing
*critical* component (database, channel layer, broker, worker; trading in LIVE)
makes the whole report "down" (HTTP 503): the system cannot do its job. Model readiness and
data freshness are not critical to serving, so they only make it "degraded".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.db.models import Max

logger = logging.getLogger(__name__)

WORKER_COMPONENT = "worker"
FEED_COMPONENT = "feed"  # the market feed (manage.py runfeed) beats with its state as the detail
FEED_SILENT_SECONDS = 120  # no frame for this long on an open connection: the feed is not live


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    status: Status
    detail: str
    critical: bool
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    status: str  # ok | degraded | down
    checked_at: datetime
    components: list[ComponentHealth]

    @property
    def http_status(self) -> int:
        return 503 if self.status == "down" else 200

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checked_at": self.checked_at.isoformat(),
            "trading_mode": str(settings.TRADING_MODE),
            "kalshi_env": str(settings.KALSHI_ENV),
            "components": {
                c.name: {k: v for k, v in asdict(c).items() if k != "name" and v not in (None, {})}
                for c in self.components
            },
        }


def _timed(name: str, critical: bool, check: Callable[[], tuple[Status, str, dict[str, Any]]]) -> ComponentHealth:
    started = time.perf_counter()
    try:
        status, detail, data = check()
    except Exception as exc:
        logger.warning("Health check %s failed: %s", name, exc)
        status, detail, data = Status.FAIL, f"{type(exc).__name__}: {exc}", {}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return ComponentHealth(name, status, detail, critical, latency, data)


def check_database() -> tuple[Status, str, dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Status.OK, f"{connection.vendor} reachable", {}


def check_channel_layer() -> tuple[Status, str, dict[str, Any]]:
    """Send a message to a fresh channel and read it back."""
    layer = get_channel_layer()
    if layer is None:
        return Status.FAIL, "no channel layer configured", {}

    async def round_trip() -> bool:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        return bool(message.get("type") == "health.ping")

    if not async_to_sync(round_trip)():
        return Status.FAIL, "message did not round-trip", {}
    return Status.OK, f"{type(layer).__name__} round-trip ok", {}


def check_broker() -> tuple[Status, str, dict[str, Any]]:
    from kalshiweb.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        transport = conn.transport_cls
    return Status.OK, f"{transport} broker reachable", {}


def check_worker(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    """A worker proves it is alive (and that beat schedules it) by running the heartbeat task."""
    from kalshiweb.models import Heartbeat

    age = Heartbeat.objects.age_of(WORKER_COMPONENT, now=now)
    limit = timedelta(seconds=3 * settings.HEARTBEAT_INTERVAL_SECONDS + 15)
    if age is None:
        return Status.WARN, "no heartbeat yet (starting, or no worker with beat is running)", {}
    data = {"last_heartbeat_seconds_ago": round(age.total_seconds(), 1)}
    if age > limit:
        return Status.FAIL, f"last heartbeat {age.total_seconds():.0f}s ago (limit {limit.total_seconds():.0f}s)", data
    return Status.OK, f"heartbeat {age.total_seconds():.0f}s ago", data


def check_model(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    from prediction.models import ModelVersion

    readiness = ModelVersion.objects.readiness(now=now)
    return (Status.OK if readiness.ready else Status.WARN), readiness.reason, {}


def check_data_freshness(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    """Newest forecast we could have known and newest market sync, against their limits."""
    from markets.models import Market
    from weather.models import ForecastSnapshot

    newest = {
        "forecasts": (
            ForecastSnapshot.objects.filter(available_at__lte=now).aggregate(t=Max("available_at"))["t"],
            timedelta(minutes=settings.HEALTH_FORECAST_STALE_MINUTES),
        ),
        "markets": (
            Market.objects.aggregate(t=Max("synced_at"))["t"],
            timedelta(minutes=settings.HEALTH_MARKET_STALE_MINUTES),
        ),
    }
    problems, data = [], {}
    for name, (latest, limit) in newest.items():
        if latest is None:
            problems.append(f"no {name} yet")
            continue
        age = now - latest
        data[f"{name}_age_minutes"] = round(age.total_seconds() / 60, 1)
        if age > limit:
            problems.append(f"{name} {age.total_seconds() / 60:.0f} min old (limit {limit.total_seconds() / 60:.0f})")
    if problems:
        return Status.WARN, "; ".join(problems), data
    return Status.OK, "forecasts and markets are fresh", data


def check_feed(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    """The WebSocket market feed: alive, connected, hearing frames, its books in sequence."""
    from kalshiweb.models import Heartbeat

    beat = Heartbeat.objects.filter(component=FEED_COMPONENT).first()
    if beat is None:
        return Status.WARN, "no market feed has run (manage.py runfeed, or make run, starts it)", {}
    age = (now - beat.last_seen_at).total_seconds()
    data = {"last_heartbeat_seconds_ago": round(age, 1), **beat.detail}
    if age > 3 * settings.HEARTBEAT_INTERVAL_SECONDS + 15:
        return Status.WARN, f"the feed process last reported {age:.0f}s ago", data
    if beat.detail.get("stopped"):
        return Status.WARN, "the feed was stopped (it reported so as it ended)", data
    if not beat.detail.get("connected"):
        error = beat.detail.get("last_error") or "no error recorded"
        return Status.WARN, f"the feed is not connected to Kalshi ({error})", data
    silent = beat.detail.get("last_frame_age_seconds")
    if silent is None or silent > FEED_SILENT_SECONDS:
        heard = "no frame yet" if silent is None else f"no frame for {silent:.0f}s"
        return Status.WARN, f"connected, but {heard}", data
    stale = beat.detail.get("stale_books", 0)
    if stale:
        return Status.WARN, f"{stale} order book(s) out of sequence, resynchronising", data
    markets = beat.detail.get("markets", 0)
    return Status.OK, f"connected, {markets} markets, last frame {silent:.0f}s ago", data


WEATHER_SOURCE_STALE = timedelta(hours=3)
WEATHER_SOURCE_FAILING = 3  # failures in a row


def check_weather_sources(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    """Each forecast and observation source: last success, failures in a row, latency."""
    from weather.models import SourceHealth

    rows = list(SourceHealth.objects.order_by("source"))
    if not rows:
        return Status.WARN, "no weather source has reported yet", {}
    data = {
        row.source: {
            "last_success_at": row.last_success_at.isoformat() if row.last_success_at else None,
            "consecutive_failures": row.consecutive_failures,
            "last_latency_ms": row.last_latency_ms,
            "last_error": row.last_error[:200] if row.consecutive_failures else "",
        }
        for row in rows
    }
    failing = [r.source for r in rows if r.consecutive_failures >= WEATHER_SOURCE_FAILING]
    stale = [r.source for r in rows if r.last_success_at is None or now - r.last_success_at > WEATHER_SOURCE_STALE]
    if failing or stale:
        parts = ([f"failing: {', '.join(failing)}"] if failing else []) + (
            [f"no success in {WEATHER_SOURCE_STALE.total_seconds() / 3600:g} h: {', '.join(stale)}"] if stale else []
        )
        return Status.WARN, "; ".join(parts), data
    return Status.OK, f"{len(rows)} sources reporting", data


def _has_usable_key() -> bool:
    from markets.connection import configured_signer
    from markets.credentials import CredentialError

    try:
        return configured_signer() is not None
    except CredentialError:
        return False


def check_trading(now: datetime) -> tuple[Status, str, dict[str, Any]]:
    """The trading mode; in LIVE, whether it may trade at all. Then the last cycle, unknown orders, reconciliation."""
    from trading.brokers import live_problems
    from trading.models import Order, Reconciliation, TradingCycle, TradingState

    mode = str(settings.TRADING_MODE)
    state = TradingState.load()
    problems: list[str] = []
    data: dict[str, Any] = {"mode": mode, "state": state.state}
    if mode == "LIVE":
        refusals = live_problems(has_key=_has_usable_key())
        data["live_problems"] = refusals
        if refusals:
            return Status.FAIL, "LIVE cannot trade: " + "; ".join(refusals), data
    cycle = TradingCycle.objects.filter(mode=mode).order_by("-as_of").first()
    if cycle is None:
        data["last_cycle"] = None
    else:
        data["last_cycle"] = {"at": cycle.as_of.isoformat(), "outcome": cycle.outcome, "detail": cycle.detail}
        age = (now - cycle.as_of).total_seconds()
        if cycle.outcome == TradingCycle.Outcome.FAILED:
            problems.append(f"last trading cycle failed: {cycle.detail}")
        elif age > 3 * settings.TRADING_CYCLE_SECONDS + 60:
            problems.append(f"last trading cycle {age / 60:.0f} min ago")
    unknown = list(Order.objects.filter(mode=mode).unresolved().values_list("ticker", flat=True))
    data["unknown_orders"] = len(unknown)
    if unknown:
        markets = ", ".join(sorted(set(unknown)))
        problems.append(
            f"{len(unknown)} order(s) with unknown outcome, each blocking its market until reconciliation: {markets}"
        )
    if mode != "DRY":
        last = Reconciliation.objects.filter(mode=mode).order_by("-started_at").first()
        data["last_reconciliation"] = (
            {"at": last.started_at.isoformat(), "complete": last.complete, "detail": last.detail} if last else None
        )
        if last is None:
            problems.append("no reconciliation yet")
        elif not last.complete:
            problems.append(f"last reconciliation incomplete ({last.unresolved} unresolved)")
    summary = f"{mode}, {state.get_state_display().lower()}"
    if cycle is not None:
        summary += f", last cycle {cycle.outcome} at {cycle.as_of:%H:%M}Z"
    if problems:
        return Status.WARN, f"{summary}; " + "; ".join(problems), data
    return Status.OK, summary, data


def run_health_checks(*, now: datetime) -> HealthReport:
    components = [
        _timed("database", True, check_database),
        _timed("channel_layer", True, check_channel_layer),
        _timed("broker", True, check_broker),
        _timed("worker", True, lambda: check_worker(now)),
        _timed("model", False, lambda: check_model(now)),
        _timed("data_freshness", False, lambda: check_data_freshness(now)),
        _timed("weather_sources", False, lambda: check_weather_sources(now)),
        _timed("feed", False, lambda: check_feed(now)),
        _timed("trading", str(settings.TRADING_MODE) == "LIVE", lambda: check_trading(now)),
    ]
    if any(c.critical and c.status is Status.FAIL for c in components):
        overall = "down"
    elif any(c.status is not Status.OK for c in components):
        overall = "degraded"
    else:
        overall = "ok"
    return HealthReport(overall, now, components)
