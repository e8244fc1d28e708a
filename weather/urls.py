from __future__ import annotations

from django.urls import path

from weather.api import CityListApi

urlpatterns = [
    path("cities/", CityListApi.as_view(), name="api-city-list"),
]
