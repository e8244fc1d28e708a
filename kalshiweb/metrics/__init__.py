"""Every application metric for Prometheus, defined in this package and exported at /metrics.

- HTTP: django-prometheus's ``django_http_*`` and ours, requests in progress (web)
- Celery: tasks by outcome and their duration (tasks, from Celery's signals)
- trading: cycles and errors, risk blocks, orders by outcome, fills (trading, counted after commit)
- weather: fetches, failures, fetch time, values stored and rejected, per source (weather)
- WebSockets: dashboard sockets open and accepted (web)
- read at scrape time: trading mode and state, newest cycle, model age, heartbeats, the market feed (collector)

Code increments the counters it imports from here; exposition builds the
registry /metrics serves, whole across processes (see its docstring).
"""

from __future__ import annotations

from kalshiweb.metrics.collector import KalshiwebCollector
from kalshiweb.metrics.exposition import (
    clear_multiprocess_dir,
    forget_process,
    may_scrape,
    metric_names,
    metrics_view,
    multiprocess_dir,
    scrape_registry,
)
from kalshiweb.metrics.tasks import CELERY_TASK_SECONDS, CELERY_TASKS
from kalshiweb.metrics.trading import (
    FILL_CONTRACTS,
    FILLS,
    ORDER_OUTCOMES,
    ORDERS,
    RISK_BLOCKS,
    TRADING_CYCLE_ERRORS,
    TRADING_CYCLES,
    count_cycle,
    count_fills,
    count_orders,
    count_risk_blocks,
)
from kalshiweb.metrics.weather import (
    FORECASTS_REJECTED,
    FORECASTS_STORED,
    OBSERVATIONS_STORED,
    WEATHER_FETCH_FAILURES,
    WEATHER_FETCH_SECONDS,
    WEATHER_FETCHES,
)
from kalshiweb.metrics.web import HTTP_IN_PROGRESS, WEBSOCKET_CONNECTIONS, WEBSOCKET_CONNECTIONS_TOTAL

__all__ = [
    "CELERY_TASKS",
    "CELERY_TASK_SECONDS",
    "FILLS",
    "FILL_CONTRACTS",
    "FORECASTS_REJECTED",
    "FORECASTS_STORED",
    "HTTP_IN_PROGRESS",
    "OBSERVATIONS_STORED",
    "ORDERS",
    "ORDER_OUTCOMES",
    "RISK_BLOCKS",
    "TRADING_CYCLES",
    "TRADING_CYCLE_ERRORS",
    "WEATHER_FETCHES",
    "WEATHER_FETCH_FAILURES",
    "WEATHER_FETCH_SECONDS",
    "WEBSOCKET_CONNECTIONS",
    "WEBSOCKET_CONNECTIONS_TOTAL",
    "KalshiwebCollector",
    "clear_multiprocess_dir",
    "count_cycle",
    "count_fills",
    "count_orders",
    "count_risk_blocks",
    "forget_process",
    "may_scrape",
    "metric_names",
    "metrics_view",
    "multiprocess_dir",
    "scrape_registry",
]
