"""Weather Celery tasks: fetch, store and score, for every active city."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from weather.climate import climate_date_at
from weather.models import City
from weather.services.accuracy import update_source_accuracy
from weather.services.forecasts import ingest_forecasts
from weather.services.observations import cities_due, ingest_climate_reports, ingest_running_extremes
from weather.services.registry import enabled_sources


@shared_task(ignore_result=True, soft_time_limit=240)
def fetch_forecasts_task() -> None:
    """Every source, every active city, today and the next FORECAST_DAYS_AHEAD climate days."""
    sources = enabled_sources()
    try:
        ingest_forecasts(
            sources=sources,
            cities=list(City.objects.active()),
            now=timezone.now(),
            days_ahead=settings.FORECAST_DAYS_AHEAD,
            concurrency=settings.WEATHER_FETCH_CONCURRENCY,
        )
    finally:
        for source in sources:
            close = getattr(source, "close", None)
            if close is not None:
                close()


@shared_task(ignore_result=True, soft_time_limit=120)
def fetch_observations_task() -> None:
    """Climate reports for every active city; running extremes for the cities that are due."""
    now = timezone.now()
    cities = list(City.objects.active())
    ingest_climate_reports(cities=cities, now=now)
    ingest_running_extremes(cities=cities_due(cities, now=now), now=now)


@shared_task(ignore_result=True, soft_time_limit=600)
def update_accuracy_task() -> None:
    """Rolling forecast skill per city, from the climate days before today's."""
    now = timezone.now()
    for city in City.objects.active():
        update_source_accuracy(city=city, as_of=climate_date_at(now, city.standard_utc_offset_minutes), now=now)
