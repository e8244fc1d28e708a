"""Application metrics for Prometheus (/metrics), gathered at scrape time.

Counters that code increments live next to it; this module holds the gauges
that are cheaper to read from the database when scraped than to keep current.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

_TRADING_STATE = "kalshiweb_trading_state"
_HEARTBEAT_AGE = "kalshiweb_heartbeat_age_seconds"


class KalshiwebCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Declared without samples so registering never touches the database.
        yield GaugeMetricFamily(_TRADING_STATE, "1 for the current trading state", labels=["state"])
        yield GaugeMetricFamily(_HEARTBEAT_AGE, "Seconds since a component last beat", labels=["component"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from kalshiweb.models import Heartbeat
        from trading.models import TradingState

        try:
            current = TradingState.load().state
            beats = list(Heartbeat.objects.values_list("component", "last_seen_at"))
        except DatabaseError:
            return  # the database check in /health/ reports this; a scrape must not fail
        states = GaugeMetricFamily(_TRADING_STATE, "1 for the current trading state", labels=["state"])
        for state in TradingState.State.values:
            states.add_metric([state], 1.0 if state == current else 0.0)
        yield states
        now = timezone.now()
        ages = GaugeMetricFamily(_HEARTBEAT_AGE, "Seconds since a component last beat", labels=["component"])
        for component, seen in beats:
            ages.add_metric([component], (now - seen).total_seconds())
        yield ages


_collector = KalshiwebCollector()
with contextlib.suppress(ValueError):  # already registered (module re-imported by an autoreloader)
    REGISTRY.register(_collector)
