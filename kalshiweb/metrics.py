"""Application metrics for Prometheus (/metrics), gathered at scrape time.

Counters that code increments live next to it; this module holds the gauges
that are cheaper to read from the database when scraped than to keep current.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
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


def may_scrape(request: HttpRequest) -> bool:
    """A scrape is allowed with the configured bearer token, or without one from an allowed network.

    /metrics shows the trading state, versions and activity: not for the
    public. With METRICS_TOKEN set the token is required from everywhere.
    """
    token = settings.METRICS_TOKEN
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        return HttpResponse(
            "Forbidden: /metrics needs METRICS_TOKEN as a bearer token, or a client in METRICS_ALLOWED_NETWORKS.\n",
            status=403,
            content_type="text/plain",
        )
    return ExportToDjangoView(request)
