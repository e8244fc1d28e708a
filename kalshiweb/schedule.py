"""Every periodic task, in one place, synced into django-celery-beat by ``setup_periodic_tasks``.

Intervals in seconds; each entry says when and why it fires. Later issues add
the forecast, market and trading pipeline here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str
    task: str
    every_seconds: int
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def periodic_tasks() -> list[PeriodicTaskSpec]:
    return [
        PeriodicTaskSpec(
            name="heartbeat",
            task="kalshiweb.tasks.heartbeat_task",
            every_seconds=settings.HEARTBEAT_INTERVAL_SECONDS,
            description="Every few seconds: proves beat and a worker are running (health 'worker').",
        ),
    ]
