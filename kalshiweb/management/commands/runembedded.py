"""``manage.py runembedded``: the whole product in one process, on the embedded defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kalshiweb.celery import app
from kalshiweb.embedded import EmbeddedBeat, EmbeddedWorker, Service, run_embedded
from kalshiweb.services import sync_periodic_tasks


class Command(BaseCommand):
    help = "Run web (ASGI), a Celery worker and beat in one process. Ctrl-C stops them all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Serve only; tasks then need a separate worker.")

    def handle(self, *args: Any, host: str, port: int, no_worker: bool, **options: Any) -> None:
        self._require_migrated()
        names = sync_periodic_tasks()
        self.stdout.write(f"Periodic tasks: {', '.join(names)}")
        services: list[Service] = []
        if not no_worker:
            services = [EmbeddedWorker(app), EmbeddedBeat(app, settings.CELERY_BEAT_SCHEDULER)]
        services.extend(self._feed())
        self.stdout.write(
            f"kalshiweb {settings.TRADING_MODE} mode, Kalshi {settings.KALSHI_ENV}, "
            f"database {connection.vendor}, broker {settings.CELERY_BROKER_URL.split('://')[0]}"
        )
        self.stdout.write(f"Open http://{host}:{port}/ (admin at /admin/, health at /health/)")
        run_embedded(services=services, host=host, port=port)

    def _feed(self) -> list[Service]:
        """The market feed, when there is a Kalshi key to open the WebSocket with."""
        from markets.connection import configured_signer
        from markets.credentials import CredentialError
        from markets.feed.service import FeedThread

        try:
            signer = configured_signer()
        except CredentialError as exc:
            self.stdout.write(f"Market feed: off (the Kalshi API key cannot be used: {exc})")
            return []
        if signer is None:
            self.stdout.write("Market feed: off (no Kalshi API key; add one in the admin or set KALSHI_API_KEY_ID)")
            return []
        self.stdout.write(f"Market feed: {settings.KALSHI_WS_URL}")
        return [FeedThread(signer)]

    def _require_migrated(self) -> None:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise CommandError(
                f"{len(pending)} database migration(s) are not applied. Run `make run` "
                "(which sets everything up) or `python manage.py setup` first."
            )
