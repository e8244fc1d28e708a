"""Gauges read at scrape time: from settings, and from the database where that is cheaper than keeping them current.

The trading state, heartbeats, the newest trading cycle, the promoted model's
age and the market feed's own report (its ``feed`` heartbeat, see
kalshiweb.health.check_feed) are already stored; reading them when scraped
gives the same answer from any process, so they need no multiprocess care.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kalshiweb.health import FEED_COMPONENT
from kalshiweb.modes import TradingMode

_TRADING_MODE = ("kalshiweb_trading_mode", "1 for the configured trading mode, 0 for the others")
_TRADING_STATE = ("kalshiweb_trading_state", "1 for the current trading state")
_LAST_CYCLE = ("kalshiweb_trading_last_cycle_timestamp_seconds", "Unix time of the newest trading cycle")
_MODEL_AGE = ("kalshiweb_model_age_seconds", "Seconds since the promoted model was trained")
_HEARTBEAT_AGE = ("kalshiweb_heartbeat_age_seconds", "Seconds since a component last beat")
# The market feed's state, as its process last reported it: heartbeat detail key → (name, help).
_FEED_GAUGES = {
    "connected": ("kalshiweb_feed_connected", "1 while the market feed is connected to Kalshi"),
    "last_frame_age_seconds": ("kalshiweb_feed_last_frame_age_seconds", "Seconds since the feed's last frame"),
    "stale_books": ("kalshiweb_feed_stale_books", "Order books out of sequence, awaiting a snapshot"),
    "markets": ("kalshiweb_feed_markets", "Markets the feed watches"),
}
# Running counts since the feed process started: counters (a restart is a reset, which rate() expects).
_FEED_COUNTERS = {
    "reconnects": ("kalshiweb_feed_reconnects", "Reconnections since the feed process started"),
    "gaps": ("kalshiweb_feed_sequence_gaps", "Sequence gaps seen since the feed process started"),
}


class KalshiwebCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Declared without samples so registering (and metric_names) never touches the database.
        yield GaugeMetricFamily(*_TRADING_MODE, labels=["mode"])
        yield GaugeMetricFamily(*_TRADING_STATE, labels=["state"])
        yield GaugeMetricFamily(*_LAST_CYCLE, labels=["mode"])
        yield GaugeMetricFamily(*_MODEL_AGE)
        yield GaugeMetricFamily(*_HEARTBEAT_AGE, labels=["component"])
        for name, help_text in _FEED_GAUGES.values():
            yield GaugeMetricFamily(name, help_text)
        for name, help_text in _FEED_COUNTERS.values():
            yield CounterMetricFamily(name, help_text)

    def collect(self) -> Iterator[Metric]:
        yield trading_mode(str(settings.TRADING_MODE))
        try:
            read = _from_database(timezone.now())
        except DatabaseError:
            return  # the database check in /health/ reports this; a scrape must not fail
        yield from read


def trading_mode(configured: str) -> GaugeMetricFamily:
    """The configured mode as 1 and the others as 0, so a dashboard or an alert can match on the label."""
    family = GaugeMetricFamily(*_TRADING_MODE, labels=["mode"])
    for mode in TradingMode:
        family.add_metric([mode.value], 1.0 if mode.value == configured else 0.0)
    return family


def _from_database(now: datetime) -> list[Metric]:
    """Every family read from the database, read whole before any is yielded (so an error yields none)."""
    from kalshiweb.models import Heartbeat
    from prediction.models import ModelVersion
    from trading.models import TradingCycle, TradingState

    current = TradingState.load().state
    beats = list(Heartbeat.objects.values_list("component", "last_seen_at", "detail"))
    newest = TradingCycle.objects.order_by().values_list("mode").annotate(newest=Max("as_of"))
    model = ModelVersion.objects.readiness(now=now).model  # the model trading consults, whether current or not
    families: list[Metric] = []
    states = GaugeMetricFamily(*_TRADING_STATE, labels=["state"])
    for state in TradingState.State.values:
        states.add_metric([state], 1.0 if state == current else 0.0)
    families.append(states)
    cycles = GaugeMetricFamily(*_LAST_CYCLE, labels=["mode"])
    for mode, as_of in newest:
        cycles.add_metric([mode], as_of.timestamp())
    families.append(cycles)
    trained = model and (model.trained_at or model.promoted_at)
    if trained:
        families.append(GaugeMetricFamily(*_MODEL_AGE, value=(now - trained).total_seconds()))
    ages = GaugeMetricFamily(*_HEARTBEAT_AGE, labels=["component"])
    for component, seen, _ in beats:
        ages.add_metric([component], (now - seen).total_seconds())
    families.append(ages)
    feed = next((detail for component, _, detail in beats if component == FEED_COMPONENT), None)
    if feed is not None:
        families += _feed(feed)
    return families


def _feed(detail: dict[str, object]) -> list[Metric]:
    """The feed's report as families; a value it did not report (None before a first frame) is left out."""
    families: list[Metric] = []
    for key, (name, help_text) in _FEED_GAUGES.items():
        if isinstance(value := detail.get(key), bool | int | float):
            families.append(GaugeMetricFamily(name, help_text, value=float(value)))
    for key, (name, help_text) in _FEED_COUNTERS.items():
        if isinstance(value := detail.get(key), bool | int | float):
            families.append(CounterMetricFamily(name, help_text, value=float(value)))
    return families
