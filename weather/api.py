"""Weather API: the cities and their settlement stations."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import generics, serializers

from weather.models import City


class CityListApi(generics.ListAPIView[City]):
    @extend_schema_serializer(component_name="City")
    class OutputSerializer(serializers.ModelSerializer[City]):
        class Meta:
            model = City
            fields = [
                "id",
                "name",
                "high_series_ticker",
                "low_series_ticker",
                "station_icao",
                "station_name",
                "nws_cli_code",
                "latitude",
                "longitude",
                "elevation_m",
                "timezone",
                "standard_utc_offset_minutes",
                "is_active",
                "station_verified",
            ]

    queryset = City.objects.order_by("name")
    filterset_fields = ["is_active"]
    serializer_class = OutputSerializer
