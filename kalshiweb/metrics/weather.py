"""The weather pipeline's counters: fetches per source, their failures and time, and what was stored."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WEATHER_FETCHES = Counter(
    "kalshiweb_weather_fetches_total", "Weather fetch attempts, one per station per source", ["source"]
)
WEATHER_FETCH_FAILURES = Counter("kalshiweb_weather_fetch_failures_total", "Weather requests that failed", ["source"])
WEATHER_FETCH_SECONDS = Histogram(
    "kalshiweb_weather_fetch_seconds", "Time to fetch one station from one source", ["source"]
)
FORECASTS_STORED = Counter("kalshiweb_weather_forecasts_stored_total", "Forecast values stored", ["source"])
FORECASTS_REJECTED = Counter(
    "kalshiweb_weather_forecasts_rejected_total", "Forecast values rejected as nonsense", ["source"]
)
OBSERVATIONS_STORED = Counter("kalshiweb_weather_observations_stored_total", "Observed values stored", ["source"])
