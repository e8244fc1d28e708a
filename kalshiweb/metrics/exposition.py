"""/metrics: who may scrape it, and one registry that covers every process.

Without PROMETHEUS_MULTIPROC_DIR a process exports its own metrics (the
default registry: the one-process ``make run``). With it, every process
(web, worker, beat, feed) writes its counters into files in that directory,
and the web process's /metrics adds them up (prometheus_client's
multiprocess mode) next to the gauges read from the database at scrape time.
The variable must be set before a process starts: prometheus_client reads it
when it creates a metric's value.
"""

from __future__ import annotations

import atexit
import contextlib
import hmac
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY

from kalshiweb.metrics.collector import KalshiwebCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

with contextlib.suppress(ValueError):  # already registered (module re-imported by an autoreloader)
    REGISTRY.register(KalshiwebCollector())

# prometheus_client leaves these two unannotated: typed here, so the strict check of the core (which reaches
# this module through kalshiweb.celery) accepts the calls.
_collect_from_files: Callable[..., object] = multiprocess.MultiProcessCollector
_mark_process_dead: Callable[[int, str], object] = multiprocess.mark_process_dead


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR) or None


def scrape_registry(path: str | None = None) -> CollectorRegistry:
    """The registry /metrics exports: every process's files summed (multiprocess mode), or this process's own.

    ``path`` is the multiprocess directory (default: PROMETHEUS_MULTIPROC_DIR).
    """
    path = path or multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    _collect_from_files(registry, path=path)
    registry.register(KalshiwebCollector())
    return registry


def forget_process(pid: int) -> None:
    """A process ended: its live gauges (requests in progress, open sockets) no longer count. Counters stay."""
    if (path := multiprocess_dir()) is not None:
        _mark_process_dead(pid, path)


def clear_multiprocess_dir() -> int:
    """Delete the metrics files earlier processes left (release, before the others start); how many went.

    Counters of ended processes are kept while the run goes on (a count must not
    drop), but a new run starts from nothing, or old processes' files pile up.
    """
    if (path := multiprocess_dir()) is None:
        return 0
    files = list(Path(path).glob("*.db"))
    for file in files:
        file.unlink(missing_ok=True)
    return len(files)


if multiprocess_dir() is not None:
    # This process's own clean exit; the pid is read then, so a forked child that exits this way forgets itself.
    atexit.register(lambda: forget_process(os.getpid()))


def metric_names() -> set[str]:
    """Every metric family and sample name the application exports (``…_total``, ``…_bucket``, …).

    For checking alert rules and dashboards against: read from the collectors'
    descriptions, so it needs no database and no traffic.
    """
    from django_prometheus.middleware import Metrics

    Metrics.get_instance()  # django-prometheus creates its HTTP metrics with the first request's middleware
    # prometheus_client keeps every name a registered collector produces (to refuse a duplicate); it has
    # no public accessor for them. Its process, platform and gc collectors are left out: multiprocess mode,
    # as production runs, does not export them.
    per_process = {PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR}
    return {name for name, collector in REGISTRY._names_to_collectors.items() if collector not in per_process}


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
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
