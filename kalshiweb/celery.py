"""The Celery application. Configuration comes from settings (CELERY_* names)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")

app = Celery("kalshiweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def on_worker_ready(**kwargs: Any) -> None:
    """A worker (``celery worker`` or the embedded one) is up: a LIVE process starts halted (trading.services),
    and the ledger is reconciled with the exchange before the first trading cycle relies on it."""
    from django.utils import timezone

    from trading.services import on_process_start
    from trading.tasks import reconcile_task

    on_process_start(now=timezone.now())
    reconcile_task.delay()
