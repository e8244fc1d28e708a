"""``manage.py setup_periodic_tasks``: sync kalshiweb.schedule into django-celery-beat (run on deploy)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kalshiweb.services import sync_periodic_tasks


class Command(BaseCommand):
    help = "Create or update the periodic tasks defined in kalshiweb/schedule.py."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in sync_periodic_tasks():
            self.stdout.write(name)
