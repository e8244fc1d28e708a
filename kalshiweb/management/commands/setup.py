"""``manage.py setup``: everything a fresh install or a deploy needs, safe to run again."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kalshiweb.metrics import clear_multiprocess_dir
from kalshiweb.services import ensure_admin_user, sync_periodic_tasks
from weather.models import City


class Command(BaseCommand):
    help = "Apply migrations (cities included), collect static files, sync periodic tasks, create an admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-admin", action="store_true", help="Do not create a superuser.")

    def handle(self, *args: Any, no_admin: bool, **options: Any) -> None:
        clear_multiprocess_dir()  # a deploy starts the processes afresh: so do their metrics
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("Static files collected.")
        self.stdout.write("Periodic tasks: " + ", ".join(sync_periodic_tasks()))
        cities = City.objects.all()
        self.stdout.write(f"Cities: {cities.count()} known, {cities.active().count()} active.")
        if not no_admin:
            self._ensure_admin()

    def _ensure_admin(self) -> None:
        account = ensure_admin_user(
            username=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin"),
            password=os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None,
        )
        if not account.created:
            self.stdout.write(f"Admin user: {account.username} (exists).")
        elif account.password:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user {account.username!r} with password {account.password!r}\n"
                    "  It is shown only this once. Change it at /admin/password_change/ or with\n"
                    f"  `python manage.py changepassword {account.username}`."
                )
            )
        else:
            self.stdout.write(f"Created admin user {account.username!r} from DJANGO_SUPERUSER_PASSWORD.")
