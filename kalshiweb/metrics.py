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

from kalshiweb.health import FEED_COMPONENT

_TRADING_STATE = "kalshiweb_trading_state"
_HEARTBEAT_AGE = "kalshiweb_heartbeat_age_seconds"
# The market feed's state, as its process last reported it (see kalshiweb.health.check_feed).
_FEED = {
    "connected": ("kalshiweb_feed_connected", "1 while the market feed is connected to Kalshi"),
    "last_frame_age_seconds": ("kalshiweb_feed_last_frame_age_seconds", "Seconds since the feed's last frame"),
    "reconnects": ("kalshiweb_feed_reconnects", "Reconnections since the feed process started"),
    "gaps": ("kalshiweb_feed_sequence_gaps", "Sequence gaps seen since the feed process started"),
    "stale_books": ("kalshiweb_feed_stale_books", "Order books out of sequence, awaiting a snapshot"),
    "markets": ("kalshiweb_feed_markets", "Markets the feed watches"),
}


class KalshiwebCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Declared without samples so registering never touches the database.
        yield GaugeMetricFamily(_TRADING_STATE, "1 for the current trading state", labels=["state"])
        yield GaugeMetricFamily(_HEARTBEAT_AGE, "Seconds since a component last beat", labels=["component"])
        for name, help_text in _FEED.values():
            yield GaugeMetricFamily(name, help_text)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from kalshiweb.models import Heartbeat
        from trading.models import TradingState

        try:
            current = TradingState.load().state
            beats = list(Heartbeat.objects.values_list("component", "last_seen_at", "detail"))
        except DatabaseError:
            return  # the database check in /health/ reports this; a scrape must not fail
        states = GaugeMetricFamily(_TRADING_STATE, "1 for the current trading state", labels=["state"])
        for state in TradingState.State.values:
            states.add_metric([state], 1.0 if state == current else 0.0)
        yield states
        now = timezone.now()
        ages = GaugeMetricFamily(_HEARTBEAT_AGE, "Seconds since a component last beat", labels=["component"])
        for component, seen, _ in beats:
            ages.add_metric([component], (now - seen).total_seconds())
        yield ages
        feed = next((detail for component, _, detail in beats if component == FEED_COMPONENT), None)
        if feed is None:
            return
        for key, (name, help_text) in _FEED.items():
            value = feed.get(key)
            if isinstance(value, bool | int | float):
                yield GaugeMetricFamily(name, help_text, value=float(value))


_collector = KalshiwebCollector()
with contextlib.suppress(ValueError):  # already registered (module re-imported by an autoreloader)
    REGISTRY.register(_collector)
