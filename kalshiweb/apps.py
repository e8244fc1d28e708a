from __future__ import annotations

from django.apps import AppConfig


class KalshiwebConfig(AppConfig):
    """Project-wide pieces: health, heartbeats, the embedded runner and set-up commands."""

    name = "kalshiweb"
    verbose_name = "System"

    def ready(self) -> None:
        from kalshiweb import checks, metrics  # noqa: F401 - registers system checks and collectors
