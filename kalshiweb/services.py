"""Project-wide workflows: periodic task sync and the first admin user."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from kalshiweb.schedule import periodic_tasks

logger = logging.getLogger(__name__)

# Tasks we own carry this prefix; anything else in the table is the operator's and left alone.
TASK_PREFIX = "kalshiweb: "


@transaction.atomic
def sync_periodic_tasks() -> list[str]:
    """Make django-celery-beat's tables match kalshiweb.schedule; returns the task names."""
    wanted = {}
    for spec in periodic_tasks():
        interval, _ = IntervalSchedule.objects.get_or_create(every=spec.every_seconds, period=IntervalSchedule.SECONDS)
        name = TASK_PREFIX + spec.name
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": spec.task,
                "interval": interval,
                "crontab": None,
                "kwargs": _json(spec.kwargs),
                "description": spec.description,
                "enabled": True,
            },
        )
        wanted[name] = spec
    stale = PeriodicTask.objects.filter(name__startswith=TASK_PREFIX).exclude(name__in=wanted)
    for name in stale.values_list("name", flat=True):
        logger.info("Removing periodic task %s: no longer in the schedule", name)
    stale.delete()
    return sorted(wanted)


def _json(kwargs: dict[str, object]) -> str:
    import json

    return json.dumps(kwargs, sort_keys=True)


@dataclass(frozen=True)
class AdminAccount:
    username: str
    password: str | None  # set only when we generated it, to show once
    created: bool


def ensure_admin_user(*, username: str, password: str | None) -> AdminAccount:
    """Create a superuser if none exists. A generated password is returned to show once."""
    user_model = get_user_model()
    existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return AdminAccount(existing.get_username(), None, created=False)
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    logger.info("Created superuser %s", username)
    return AdminAccount(username, password if generated else None, created=True)
