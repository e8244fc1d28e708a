"""System checks for the weather settings, run at every start-up (``manage.py check``, ``runembedded``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def check_weather_sources(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """WEATHER_SOURCES must name sources we have: a typo would otherwise quietly leave a city unforecast."""
    from weather.services.registry import BUILDERS

    unknown = [name for name in settings.WEATHER_SOURCES if name not in BUILDERS]
    if not unknown:
        return []
    return [
        Error(
            f"WEATHER_SOURCES names unknown source{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}.",
            hint=f"Known sources: {', '.join(BUILDERS)} (comma-separated; unset for all of them).",
            id="weather.E001",
        )
    ]
