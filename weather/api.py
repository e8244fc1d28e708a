"""Weather API: the cities, their forecasts as known at any moment, and what was observed."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import generics, serializers

from kalshiweb.filters import UtcDateTimeFilter
from kalshiweb.rest import UncountedPages
from weather.models import City, ForecastSnapshot, Observation, RunningExtreme


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


class ForecastFilter(django_filters.FilterSet):
    """Plain filters narrow the rows; ``as_of`` and ``latest`` then apply the point in time (see filter_queryset)."""

    target_date_after = django_filters.DateFilter(field_name="target_date", lookup_expr="gte")
    target_date_before = django_filters.DateFilter(field_name="target_date", lookup_expr="lte")
    as_of = UtcDateTimeFilter(
        method="point_in_time",
        help_text="Point in time: only forecasts available by then (available_at <= as_of). Default: now.",
    )
    latest = django_filters.BooleanFilter(
        method="point_in_time",
        help_text="Only the newest forecast of each (city, source, model, target date) available by as_of.",
    )

    class Meta:
        model = ForecastSnapshot
        fields = ["city", "source", "model", "quantity", "target_date", "target_date_after", "target_date_before"]

    def point_in_time(self, queryset: QuerySet[ForecastSnapshot], name: str, value: Any) -> QuerySet[ForecastSnapshot]:
        return queryset  # applied last, together, in filter_queryset

    def filter_queryset(self, queryset: QuerySet[ForecastSnapshot]) -> QuerySet[ForecastSnapshot]:
        # The time is read at the edge; ForecastSnapshot's own queryset methods hold the point-in-time rule.
        # The window of ``as_of`` runs in the database on the rows the plain filters kept, so with
        # ``quantity`` it picks the newest run of that quantity.
        rows: Any = super().filter_queryset(queryset)
        when = self.form.cleaned_data.get("as_of") or timezone.now()
        if self.form.cleaned_data.get("latest"):
            return rows.as_of(when)
        return rows.known_at(when)


class ForecastListApi(generics.ListAPIView[ForecastSnapshot]):
    """Stored forecasts as they were known: ``?as_of=`` hides everything published later, ``&latest=true`` keeps
    each source's newest run per city and day. Without ``as_of`` the point in time is now."""

    @extend_schema_serializer(component_name="Forecast")
    class OutputSerializer(serializers.ModelSerializer[ForecastSnapshot]):
        city_name = serializers.CharField(source="city.name")

        class Meta:
            model = ForecastSnapshot
            fields = [
                "id",
                "city",
                "city_name",
                "source",
                "model",
                "target_date",
                "issued_at",
                "available_at",
                "fetched_at",
                "quantity",
                "high_f",
                "low_f",
                "members_high_f",
                "members_low_f",
                "n_hours",
            ]

    serializer_class = OutputSerializer
    filterset_class = ForecastFilter
    pagination_class = UncountedPages  # a year's forecasts: counting them cost more than the page

    def get_queryset(self) -> QuerySet[ForecastSnapshot]:
        # The table's own columns (city id, not name): the (city, target_date, available_at) index serves the
        # order, leaving only a day's few runs to sort; ordering by the city's name sorted every row.
        return ForecastSnapshot.objects.select_related("city").order_by(
            "city_id", "target_date", "source", "model", "-available_at", "-id"
        )


class ObservationFilter(django_filters.FilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Observation
        fields = ["city", "source", "is_final", "date", "date_after", "date_before"]


class ObservationListApi(generics.ListAPIView[Observation]):
    """Each source's observed high and low of a city's climate day (the NWS CLI, source "cli", settles)."""

    @extend_schema_serializer(component_name="Observation")
    class OutputSerializer(serializers.ModelSerializer[Observation]):
        city_name = serializers.CharField(source="city.name")

        class Meta:
            model = Observation
            fields = [
                "id",
                "city",
                "city_name",
                "date",
                "source",
                "high_f",
                "low_f",
                "is_final",
                "reported_at",
                "received_at",
            ]

    serializer_class = OutputSerializer
    filterset_class = ObservationFilter

    def get_queryset(self) -> QuerySet[Observation]:
        # By city id, not name: the city's index serves the order (see ForecastListApi).
        return Observation.objects.select_related("city").order_by("city_id", "-date", "source")


class RunningExtremeFilter(django_filters.FilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    as_of = UtcDateTimeFilter(
        field_name="recorded_at", lookup_expr="lte", help_text="Point in time: only what we had learned by then."
    )

    class Meta:
        model = RunningExtreme
        fields = ["city", "date", "date_after", "date_before", "as_of"]


class RunningExtremeListApi(generics.ListAPIView[RunningExtreme]):
    """The running maximum and minimum of each climate day as it grew, newest first (the first row of a
    city and day is what we knew last); cities by descending id."""

    @extend_schema_serializer(component_name="RunningExtreme")
    class OutputSerializer(serializers.ModelSerializer[RunningExtreme]):
        city_name = serializers.CharField(source="city.name")

        class Meta:
            model = RunningExtreme
            fields = [
                "id",
                "city",
                "city_name",
                "date",
                "observed_at",
                "recorded_at",
                "max_f",
                "min_f",
                "n_observations",
            ]

    serializer_class = OutputSerializer
    filterset_class = RunningExtremeFilter
    pagination_class = UncountedPages  # a row an hour a city: counting them cost more than the page

    def get_queryset(self) -> QuerySet[RunningExtreme]:
        # Wholly descending, so the (city, date, recorded_at) index is read backwards with no sort at all;
        # ordering by the city's name sorted every row of the year.
        return RunningExtreme.objects.select_related("city").order_by("-city_id", "-date", "-recorded_at", "-id")
