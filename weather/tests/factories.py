from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from weather.models import City, ForecastSnapshot, Observation


class CityFactory(DjangoModelFactory[City]):
    class Meta:
        model = City

    name = factory.Sequence(lambda n: f"Testville {n}")
    high_series_ticker = factory.Sequence(lambda n: f"KXHIGHTEST{n}")
    low_series_ticker = None
    station_icao = "KTST"
    station_name = "Test Airport"
    nws_cli_code = "TST"
    nws_cli_office = "OKX"
    ghcn_id = "USW00000001"
    latitude = Decimal("40.0000")
    longitude = Decimal("-74.0000")
    elevation_m = Decimal("10.0")
    timezone = "America/New_York"
    standard_utc_offset_minutes = -300
    station_verified = True
    is_active = True


class ForecastSnapshotFactory(DjangoModelFactory[ForecastSnapshot]):
    class Meta:
        model = ForecastSnapshot

    source = "open-meteo"
    model = "gfs_seamless"
    city = factory.SubFactory(CityFactory)
    target_date = date(2025, 2, 1)
    issued_at = datetime(2025, 1, 31, 12, tzinfo=UTC)
    available_at = datetime(2025, 1, 31, 15, tzinfo=UTC)
    high_f = 41.0
    low_f = 30.0


class ObservationFactory(DjangoModelFactory[Observation]):
    class Meta:
        model = Observation

    city = factory.SubFactory(CityFactory)
    date = date(2025, 2, 1)
    source = Observation.Source.CLI
    high_f = 42.0
    low_f = 29.0
    is_final = True
