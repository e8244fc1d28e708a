"""Celery tasks run, by outcome, and how long they took; counted from Celery's own signals.

Connected when this module is imported (kalshiweb's AppConfig.ready), so every
process that runs tasks (``celery worker``, the embedded runner, an eager
``apply()``) counts them without a line in any task.
"""

from __future__ import annotations

import time
from typing import Any

from celery.signals import task_postrun, task_prerun
from prometheus_client import Counter, Histogram

CELERY_TASKS = Counter("kalshiweb_celery_tasks_total", "Celery tasks run, by outcome", ["task", "outcome"])
CELERY_TASK_SECONDS = Histogram(
    "kalshiweb_celery_task_duration_seconds",
    "Time a Celery task ran",
    ["task"],
    # From the heartbeat's few milliseconds to the ten minutes CELERY_TASK_TIME_LIMIT allows.
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
# Celery's final state of a run → our outcome label. A retried run ends in RETRY; its next run counts again.
OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}

_started: dict[str, float] = {}  # task id → monotonic start, from prerun to postrun in the same process


@task_prerun.connect(dispatch_uid="kalshiweb.metrics.task_started")
def _task_started(task_id: str, **kwargs: Any) -> None:
    _started[task_id] = time.monotonic()


@task_postrun.connect(dispatch_uid="kalshiweb.metrics.task_finished")
def _task_finished(sender: Any, task_id: str, state: str | None = None, **kwargs: Any) -> None:
    """One run ended (postrun carries the final state, so a failure or retry is counted once, here)."""
    name = getattr(sender, "name", None) or "unknown"
    started = _started.pop(task_id, None)
    if started is not None:
        CELERY_TASK_SECONDS.labels(name).observe(time.monotonic() - started)
    outcome = OUTCOMES.get(state or "")
    if outcome is not None:
        CELERY_TASKS.labels(name, outcome).inc()
