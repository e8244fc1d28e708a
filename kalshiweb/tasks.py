"""Project-wide Celery tasks."""

from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from kalshiweb.health import WORKER_COMPONENT
from kalshiweb.models import Heartbeat


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Scheduled by beat, run by a worker: its row proves both are alive."""
    Heartbeat.objects.beat(WORKER_COMPONENT, now=timezone.now(), detail={"host": socket.gethostname()})


@shared_task
def ping_task() -> str:
    """Round-trip probe for operators and tests: returns 'pong' from whichever worker ran it."""
    return "pong"
