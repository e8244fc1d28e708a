"""Prometheus counters of the weather pipeline (per process; see the README on multi-process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FORECASTS_STORED = Counter("kalshiweb_weather_forecasts_stored_total", "Forecast values stored", ["source"])
FORECASTS_REJECTED = Counter(
    "kalshiweb_weather_forecasts_rejected_total", "Forecast values rejected as nonsense", ["source"]
)
FETCH_FAILURES = Counter("kalshiweb_weather_fetch_failures_total", "Weather requests that failed", ["source"])
FETCH_SECONDS = Histogram("kalshiweb_weather_fetch_seconds", "Time to fetch one station from one source", ["source"])
OBSERVATIONS_STORED = Counter("kalshiweb_weather_observations_stored_total", "Observed values stored", ["source"])
