"""Which forecast sources run, built from settings and the keys stored in the admin."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from kalshiweb.logconfig import register_secret
from weather.models import WeatherApiKey
from weather.sources.base import WeatherSource
from weather.sources.nws import NwsSource
from weather.sources.open_meteo import OpenMeteoEnsembleSource, OpenMeteoSource
from weather.sources.visual_crossing import VisualCrossingSource

logger = logging.getLogger(__name__)

APP_NAME = "kalshiweb"


def provider_key(provider: str) -> str | None:
    """The active stored key of a commercial provider, registered for log redaction; None if none."""
    key = WeatherApiKey.objects.filter(provider=provider, is_active=True).values_list("api_key", flat=True).first()
    if not key:
        return None
    register_secret(key)
    return key


def _nws() -> WeatherSource:
    return NwsSource(app_name=APP_NAME, contact=settings.WEATHER_CONTACT)


def _open_meteo() -> WeatherSource:
    return OpenMeteoSource(models=settings.OPEN_METEO_MODELS or None, api_key=provider_key("open-meteo"))


def _open_meteo_ensemble() -> WeatherSource:
    return OpenMeteoEnsembleSource(
        models=settings.OPEN_METEO_ENSEMBLE_MODELS or None, api_key=provider_key("open-meteo")
    )


def _visual_crossing() -> WeatherSource:
    return VisualCrossingSource(api_key=provider_key(WeatherApiKey.Provider.VISUAL_CROSSING))


BUILDERS: dict[str, Callable[[], WeatherSource]] = {
    "nws": _nws,
    "open-meteo": _open_meteo,
    "open-meteo-ensemble": _open_meteo_ensemble,
    "visual-crossing": _visual_crossing,
}


def enabled_sources() -> list[WeatherSource]:
    """The sources named in WEATHER_SOURCES that can run (a keyed source without a key cannot)."""
    sources = []
    for name in settings.WEATHER_SOURCES:
        builder = BUILDERS.get(name)
        if builder is None:
            logger.warning("WEATHER_SOURCES names unknown source %r; known: %s", name, ", ".join(BUILDERS))
            continue
        source = builder()
        if source.enabled:
            sources.append(source)
        else:
            logger.info("Weather source %s is off (no key stored in the admin)", name)
    return sources
