"""The Celery application. Configuration comes from settings (CELERY_* names)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_shutdown, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")
# prometheus_client's multiprocess mode (kalshiweb.metrics.exposition) writes there from a process's first
# metric on, and fails when it is missing; every entry point imports this module (via kalshiweb) before that.
if metrics_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)

app = Celery("kalshiweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def keep_django_logging(**kwargs: Any) -> None:
    """Django's LOGGING (LOG_LEVEL, LOG_FORMAT, redaction) already configures every process, workers and beat
    included. Celery configures logging itself only when nobody answers this signal: it would set the root
    level from ``--loglevel`` and give ``celery.task`` a handler of its own that skips ours. In a test process,
    celery's ``start_worker`` would leave the root logger at ERROR for every test after it."""


@worker_ready.connect
def on_worker_ready(**kwargs: Any) -> None:
    """A worker (``celery worker`` or the embedded one) is up: a LIVE process starts halted (trading.services),
    and the ledger is reconciled with the exchange before the first trading cycle relies on it."""
    from django.utils import timezone

    from trading.services import on_process_start
    from trading.tasks import reconcile_task

    on_process_start(now=timezone.now())
    reconcile_task.delay()


@worker_process_shutdown.connect
def on_worker_process_shutdown(pid: int, **kwargs: Any) -> None:
    """A pool process ends (it exits without running atexit): its live gauges must stop counting in /metrics."""
    from kalshiweb.metrics import forget_process

    forget_process(pid)
