"""Cities and their settlement stations, point-in-time forecasts, and observations."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from weather.climate import climate_day_window, zone_standard_offset_minutes

ICAO_VALIDATOR = RegexValidator(r"^[A-Z]{4}$", "An ICAO station id is four capital letters, e.g. KNYC.")
SERIES_TICKER_VALIDATOR = RegexValidator(r"^[A-Z0-9]+$", "A Kalshi series ticker is capital letters and digits.")


class CityQuerySet(models.QuerySet["City"]):
    def active(self) -> CityQuerySet:
        return self.filter(is_active=True)


class City(models.Model):
    """A city with Kalshi temperature series and the station those series settle on.

    Kalshi settles on the NWS Daily Climate Report (CLI) of one station, e.g.
    Central Park (KNYC) for New York, not an airport. Forecasts are fetched at
    the station's coordinates and elevation, and the climate day uses the
    station's fixed standard-time offset.
    """

    name = models.CharField(max_length=64, unique=True)
    high_series_ticker = models.CharField(
        "high-temperature series",
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        validators=[SERIES_TICKER_VALIDATOR],
        help_text="Kalshi series for the daily high, e.g. KXHIGHNY.",
    )
    low_series_ticker = models.CharField(
        "low-temperature series",
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        validators=[SERIES_TICKER_VALIDATOR],
        help_text="Kalshi series for the daily low, e.g. KXLOWTNYC.",
    )
    station_icao = models.CharField("station ICAO", max_length=4, validators=[ICAO_VALIDATOR])
    station_name = models.CharField(max_length=128)
    nws_cli_code = models.CharField(
        "NWS CLI code",
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Three capital letters, e.g. NYC.")],
        help_text="The CLI product's 'issuedby' code, e.g. NYC for CLINYC.",
    )
    nws_cli_office = models.CharField(
        "NWS office issuing the CLI",
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Three capital letters, e.g. OKX.")],
    )
    ghcn_id = models.CharField(
        "GHCN-Daily id",
        max_length=11,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{11}$", "Eleven characters, e.g. USW00094728.")],
    )
    latitude = models.DecimalField(
        max_digits=7, decimal_places=4, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        max_digits=8, decimal_places=4, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    elevation_m = models.DecimalField("elevation (m)", max_digits=6, decimal_places=1)
    timezone = models.CharField(max_length=64, help_text="IANA zone, e.g. America/New_York.")
    standard_utc_offset_minutes = models.SmallIntegerField(
        "standard-time UTC offset (min)",
        help_text="Fixed offset of local standard time, e.g. -300 for EST. Defines the climate day.",
    )
    nws_grid_office = models.CharField("NWS grid office", max_length=3, blank=True)
    nws_grid_x = models.PositiveSmallIntegerField(null=True, blank=True)
    nws_grid_y = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=False, help_text="Only active cities are fetched, predicted and traded.")
    station_verified = models.BooleanField(
        default=False, help_text="The settlement station is confirmed by Kalshi's own contract text."
    )
    station_source = models.CharField(max_length=255, blank=True, help_text="Where the station mapping was verified.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "cities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(standard_utc_offset_minutes__gte=-840, standard_utc_offset_minutes__lte=840),
                name="city_offset_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_active=True, station_verified=False),
                name="city_active_requires_verified_station",
                violation_error_message="A city can only be active once its settlement station is verified.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.station_icao})"

    def clean(self) -> None:
        try:
            expected = zone_standard_offset_minutes(self.timezone)
        except ValueError as exc:
            raise ValidationError({"timezone": str(exc)}) from None
        if self.standard_utc_offset_minutes is not None and self.standard_utc_offset_minutes != expected:
            raise ValidationError(
                {
                    "standard_utc_offset_minutes": (
                        f"{self.timezone} has standard-time offset {expected} min, "
                        f"not {self.standard_utc_offset_minutes}."
                    )
                }
            )

    def climate_day_window(self, day: date) -> tuple[datetime, datetime]:
        """UTC [start, end) of the station's climate day ``day``."""
        return climate_day_window(day, self.standard_utc_offset_minutes)


class ForecastSnapshot(models.Model):
    """One forecast of one city's climate day, as it was known at one moment.

    Rows are never updated: a new model run is a new row. ``available_at`` is
    the earliest instant we could have known the values (for live fetches, when
    we fetched them; for archives, what the archive proves), and is what every
    point-in-time query filters on. ``issued_at`` is the model run time when the
    source says.
    """

    source = models.CharField(max_length=32, help_text="Provider, e.g. nws, open-meteo.")
    model = models.CharField(max_length=64, blank=True, help_text="Model within the source, e.g. gfs_seamless.")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="forecasts")
    target_date = models.DateField(help_text="The climate day forecast.")
    issued_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField()
    fetched_at = models.DateTimeField(auto_now_add=True)
    high_f = models.FloatField("high (°F)", null=True, blank=True)
    low_f = models.FloatField("low (°F)", null=True, blank=True)
    members_high_f = models.JSONField(
        "ensemble member highs (°F)", default=list, blank=True, help_text="One value per member."
    )
    members_low_f = models.JSONField("ensemble member lows (°F)", default=list, blank=True)

    class Meta:
        ordering = ["city", "target_date", "-available_at"]
        get_latest_by = "available_at"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "model", "city", "target_date", "available_at"],
                name="forecast_unique_per_availability",
            ),
            models.CheckConstraint(
                condition=models.Q(issued_at__isnull=True) | models.Q(issued_at__lte=models.F("available_at")),
                name="forecast_issued_before_available",
            ),
        ]
        indexes = [models.Index(fields=["city", "target_date", "available_at"], name="forecast_point_in_time")]

    def __str__(self) -> str:
        known = f"{self.available_at:%Y-%m-%d %H:%MZ}"
        return f"{self.source}/{self.model or '-'} {self.city.name} {self.target_date} @ {known}"


class Observation(models.Model):
    """An observed daily high/low for one city's climate day, from one source.

    The NWS CLI is the settlement truth; preliminary reports and intraday
    running maxima are kept alongside it until the final report arrives.
    """

    class Source(models.TextChoices):
        CLI = "cli", "NWS Daily Climate Report"
        CLI_PRELIMINARY = "cli-preliminary", "NWS climate report (preliminary)"
        STATION_RUNNING = "station-running", "Station observations (running max so far)"
        GHCND = "ghcnd", "NOAA GHCN-Daily"
        ACIS = "acis", "RCC-ACIS"
        KALSHI = "kalshi", "Kalshi settlement value"

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="observations")
    date = models.DateField(help_text="The climate day.")
    source = models.CharField(max_length=24, choices=Source.choices)
    high_f = models.FloatField("high (°F)", null=True, blank=True)
    low_f = models.FloatField("low (°F)", null=True, blank=True)
    is_final = models.BooleanField(default=False, help_text="Final values are never replaced by preliminary ones.")
    reported_at = models.DateTimeField(null=True, blank=True, help_text="When the source issued this value.")
    received_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city", "-date", "source"]
        constraints = [
            models.UniqueConstraint(fields=["city", "date", "source"], name="observation_unique_per_source"),
        ]

    def __str__(self) -> str:
        return f"{self.city.name} {self.date} {self.source}: high {self.high_f}"
