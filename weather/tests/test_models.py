from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from weather.models import City
from weather.tests.factories import CityFactory, ForecastSnapshotFactory

pytestmark = pytest.mark.django_db


def test_the_kalshi_cities_are_seeded_with_their_settlement_stations():
    assert City.objects.count() == 20
    active = dict(City.objects.active().values_list("high_series_ticker", "station_icao"))
    assert active == {
        "KXHIGHNY": "KNYC",
        "KXHIGHCHI": "KMDW",
        "KXHIGHMIA": "KMIA",
        "KXHIGHAUS": "KAUS",
        "KXHIGHDEN": "KDEN",
        "KXHIGHLAX": "KLAX",
        "KXHIGHPHIL": "KPHL",
    }
    nyc = City.objects.get(high_series_ticker="KXHIGHNY")
    assert (nyc.nws_cli_code, nyc.ghcn_id, nyc.standard_utc_offset_minutes) == ("NYC", "USW00094728", -300)
    assert nyc.latitude == Decimal("40.7789")
    assert not City.objects.filter(station_verified=False, is_active=True).exists()
    for city in City.objects.all():
        city.full_clean()


def test_an_unverified_station_cannot_be_activated():
    houston = City.objects.get(name="Houston")
    houston.is_active = True
    with pytest.raises(IntegrityError):
        houston.save()


def test_it_rejects_an_unknown_zone_or_a_dst_offset():
    with pytest.raises(ValidationError, match="unknown time zone"):
        CityFactory.build(timezone="America/Nowhere").full_clean()
    with pytest.raises(ValidationError, match="standard-time offset -300 min, not -240"):
        CityFactory.build(timezone="America/New_York", standard_utc_offset_minutes=-240).full_clean()


def test_it_validates_station_codes():
    with pytest.raises(ValidationError) as excinfo:
        CityFactory.build(station_icao="nyc", nws_cli_code="NY", high_series_ticker="kx-high").full_clean()
    assert {"station_icao", "nws_cli_code", "high_series_ticker"} <= set(excinfo.value.message_dict)


def test_a_forecast_cannot_be_issued_after_it_was_available():
    from datetime import timedelta

    snapshot = ForecastSnapshotFactory.build()
    snapshot.city.save()
    snapshot.issued_at = snapshot.available_at + timedelta(minutes=1)
    with pytest.raises(IntegrityError):
        snapshot.save()


def test_the_same_forecast_is_stored_once():
    snapshot = ForecastSnapshotFactory()
    with pytest.raises(IntegrityError):
        ForecastSnapshotFactory(
            city=snapshot.city, source=snapshot.source, model=snapshot.model, available_at=snapshot.available_at
        )
