from __future__ import annotations

from django.urls import path

from weather.api import CityListApi, ForecastListApi, ObservationListApi, RunningExtremeListApi

urlpatterns = [
    path("cities/", CityListApi.as_view(), name="api-city-list"),
    path("forecasts/", ForecastListApi.as_view(), name="api-forecast-list"),
    path("observations/", ObservationListApi.as_view(), name="api-observation-list"),
    path("running-extremes/", RunningExtremeListApi.as_view(), name="api-running-extreme-list"),
]
