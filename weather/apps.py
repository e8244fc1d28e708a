from __future__ import annotations

from django.apps import AppConfig


class WeatherConfig(AppConfig):
    """Cities and stations, forecasts, observations and the climate day."""

    name = "weather"
    verbose_name = "Weather"

    def ready(self) -> None:
        from django.core.checks import register

        from weather.checks import check_weather_sources

        register(check_weather_sources)
