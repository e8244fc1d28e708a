"""Cities and their settlement stations, point-in-time forecasts, and observations."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from encrypted_model_fields.fields import EncryptedTextField

from weather.climate import climate_day_window, zone_standard_offset_minutes
from weather.quantities import ForecastQuantity

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


class ForecastSnapshotQuerySet(models.QuerySet["ForecastSnapshot"]):
    def known_at(self, when: datetime) -> ForecastSnapshotQuerySet:
        """Every forecast we could have known at ``when`` (available_at <= when)."""
        return self.filter(available_at__lte=when)

    def as_of(self, when: datetime) -> ForecastSnapshotQuerySet:
        """The latest forecast of each (source, model, city, day) that was available at ``when``.

        Point in time: nothing available after ``when`` can appear, and an older
        run is replaced only by a newer one that was itself available by then.
        """
        ranked = self.known_at(when).annotate(
            _latest=Window(
                RowNumber(),
                partition_by=[F("source"), F("model"), F("city_id"), F("target_date")],
                order_by=[F("available_at").desc(), F("id").desc()],
            )
        )
        return ranked.filter(_latest=1)


class ForecastSnapshot(models.Model):
    """One forecast of one city's climate day, as it was known at one moment.

    Rows are never updated: a new model run is a new row. ``available_at`` is
    the earliest instant we could have known the values (for live fetches, when
    we fetched them; for archives, what the archive proves), and is what every
    point-in-time query filters on. ``issued_at`` is the model run time when the
    source says.

    ``quantity`` says what ``high_f`` holds. Almost always the day's high; model
    guidance sampled at one hour (HRRR/NBM at 15:00 local) is a predictor of the
    high with its own bias, never an estimate of it, and a reader that takes
    every value for a high must ask for ``Quantity.HIGH``.
    """

    class Quantity(models.TextChoices):  # the values of weather.quantities.ForecastQuantity
        HIGH = ForecastQuantity.HIGH.value, "Climate-day high (and low)"
        T2M_1500_LOCAL = ForecastQuantity.T2M_1500_LOCAL.value, "2-m temperature at 15:00 local clock time"

    source = models.CharField(max_length=32, help_text="Provider, e.g. nws, open-meteo.")
    model = models.CharField(max_length=64, blank=True, help_text="Model within the source, e.g. gfs_seamless.")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="forecasts")
    target_date = models.DateField(help_text="The climate day forecast.")
    issued_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField()
    fetched_at = models.DateTimeField(auto_now_add=True)
    quantity = models.CharField(
        max_length=16,
        choices=Quantity.choices,
        default=Quantity.HIGH,
        help_text="What high_f holds: the day's high, or a single-hour value that only predicts it.",
    )
    high_f = models.FloatField("high (°F)", null=True, blank=True, help_text="The value of quantity, in °F.")
    low_f = models.FloatField("low (°F)", null=True, blank=True)
    members_high_f = models.JSONField(
        "ensemble member highs (°F)", default=list, blank=True, help_text="One value per member."
    )
    members_low_f = models.JSONField("ensemble member lows (°F)", default=list, blank=True)
    n_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="Hours of the climate day the values cover; fewer than 24 (today's remaining hours, "
        "or a day past the model's horizon) means the high may lie outside them.",
    )

    objects = ForecastSnapshotQuerySet.as_manager()

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
        indexes = [
            models.Index(fields=["city", "target_date", "available_at"], name="forecast_point_in_time"),
            # The health check's "newest forecast we could have known", asked on every probe.
            models.Index(fields=["available_at"], name="forecast_available_at"),
        ]

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
        FIVETHIRTYEIGHT = "fivethirtyeight", "Weather Underground (FiveThirtyEight)"
        NWS_CITY = "nws-city", "NWS city observation table"
        KALSHI = "kalshi", "Kalshi settlement value"
        IEM_CLI = "iem-cli", "NWS Daily Climate Report via IEM"

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


class RunningExtreme(models.Model):
    """The highest and lowest temperature observed so far in a climate day, as of one moment.

    Append-only: every update is a new row, so a replay can ask what the running
    maximum was at any decision time (the day's high can only be at or above it).
    """

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="running_extremes")
    date = models.DateField(help_text="The climate day.")
    observed_at = models.DateTimeField(help_text="Time of the latest observation included.")
    recorded_at = models.DateTimeField(help_text="When we learned it (what replays filter on).")
    max_f = models.FloatField("max so far (°F)", null=True, blank=True)
    min_f = models.FloatField("min so far (°F)", null=True, blank=True)
    n_observations = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["city", "-date", "-observed_at"]
        get_latest_by = "recorded_at"
        constraints = [
            models.UniqueConstraint(fields=["city", "date", "observed_at"], name="running_extreme_unique"),
        ]
        indexes = [models.Index(fields=["city", "date", "recorded_at"], name="running_extreme_pit")]

    def __str__(self) -> str:
        return f"{self.city.name} {self.date} max {self.max_f} as of {self.observed_at:%H:%MZ}"


class SourceHealth(models.Model):
    """How a forecast or observation source has been behaving, for /health/ and the dashboard."""

    source = models.CharField(max_length=48, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    total_failures = models.PositiveIntegerField(default=0)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_stored = models.PositiveIntegerField(default=0, help_text="Values stored by the last run.")
    last_rejected = models.PositiveIntegerField(default=0, help_text="Values rejected by the last run.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "source health"
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.source}: {self.consecutive_failures} failures in a row"


class SourceAccuracy(models.Model):
    """Forecast error of one source and model at one lead time, over a rolling window.

    Computed from the climate days before ``as_of`` only, so the prediction code
    can weight sources by the skill it could have known on that day.
    """

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="source_accuracy")
    source = models.CharField(max_length=32)
    model = models.CharField(max_length=64, blank=True)
    lead_days = models.SmallIntegerField(help_text="Target day minus the day the forecast was available.")
    window_days = models.PositiveSmallIntegerField()
    as_of = models.DateField(help_text="Uses climate days before this date only.")
    n = models.PositiveIntegerField()
    mae_f = models.FloatField("MAE (°F)")
    bias_f = models.FloatField("bias (°F)", help_text="Mean of forecast minus observed high.")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "source accuracy"
        ordering = ["city", "source", "model", "lead_days", "-as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "source", "model", "lead_days", "window_days", "as_of"], name="source_accuracy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city.name} {self.source}/{self.model or '-'} lead {self.lead_days}: MAE {self.mae_f:.2f}"


class WeatherApiKey(models.Model):
    """The key of a commercial weather provider, encrypted at rest; without one the source is off."""

    class Provider(models.TextChoices):
        VISUAL_CROSSING = "visual-crossing", "Visual Crossing"
        OPEN_METEO = "open-meteo", "Open-Meteo (commercial plan)"

    provider = models.CharField(max_length=32, choices=Provider.choices, unique=True)
    api_key = EncryptedTextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "weather API key"
        ordering = ["provider"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} key"

    def __repr__(self) -> str:
        return f"<WeatherApiKey {self.provider}>"
