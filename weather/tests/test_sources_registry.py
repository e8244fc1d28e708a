"""Which sources run, and the commercial keys behind them: encrypted, write-only, never logged."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.urls import reverse

from kalshiweb.logconfig import redact
from weather.models import WeatherApiKey
from weather.services.registry import enabled_sources

pytestmark = pytest.mark.django_db

KEY = "vc-Z9x8w7v6u5t4s3r2"


def test_the_keyed_source_is_off_until_a_key_is_stored(settings, caplog):
    settings.WEATHER_SOURCES = ["nws", "open-meteo", "visual-crossing", "made-up"]
    caplog.set_level(logging.INFO)
    names = [source.name for source in enabled_sources()]
    assert names == ["nws", "open-meteo"]
    assert "WEATHER_SOURCES names unknown source 'made-up'" in caplog.text
    assert "visual-crossing is off (no key stored in the admin)" in caplog.text
    WeatherApiKey.objects.create(provider="visual-crossing", api_key=KEY)
    assert [source.name for source in enabled_sources()] == ["nws", "open-meteo", "visual-crossing"]


def test_a_loaded_key_is_scrubbed_from_any_later_log_line(settings):
    settings.WEATHER_SOURCES = ["visual-crossing"]
    WeatherApiKey.objects.create(provider="visual-crossing", api_key=KEY)
    enabled_sources()
    assert KEY not in redact(f"GET https://weather.visualcrossing.com/...?key={KEY}")


def test_the_key_is_encrypted_in_its_column():
    stored = WeatherApiKey.objects.create(provider="visual-crossing", api_key=KEY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM weather_weatherapikey WHERE id = %s", [stored.pk])
        raw = cursor.fetchone()[0]
    assert KEY not in raw and raw.startswith("gAAAAA")
    assert KEY not in repr(stored) and KEY not in str(stored)


def test_the_admin_takes_a_key_and_never_shows_it_back(staff_client):
    response = staff_client.post(
        reverse("admin:weather_weatherapikey_add"), {"provider": "visual-crossing", "is_active": "on", "new_key": KEY}
    )
    assert response.status_code == 302
    stored = WeatherApiKey.objects.get()
    assert stored.api_key == KEY
    for url in (
        reverse("admin:weather_weatherapikey_changelist"),
        reverse("admin:weather_weatherapikey_change", args=[stored.pk]),
    ):
        html = staff_client.get(url).content.decode()
        assert KEY not in html
        assert "…s3r2" in html
    # Leaving the field blank keeps the key.
    staff_client.post(reverse("admin:weather_weatherapikey_change", args=[stored.pk]), {"provider": "visual-crossing"})
    stored.refresh_from_db()
    assert (stored.api_key, stored.is_active) == (KEY, False)


def test_the_admin_refuses_a_key_that_is_not_one(staff_client):
    response = staff_client.post(
        reverse("admin:weather_weatherapikey_add"), {"provider": "visual-crossing", "new_key": "a b"}
    )
    assert "does not look like an API key" in response.content.decode()
    assert not WeatherApiKey.objects.exists()


def test_start_up_refuses_an_unknown_weather_source(settings):
    from django.core.checks import run_checks

    settings.WEATHER_SOURCES = ["nws", "made-up", "open-meteo"]
    errors = [e for e in run_checks() if e.id == "weather.E001"]
    assert len(errors) == 1
    assert "unknown source: 'made-up'" in errors[0].msg
    assert "nws, open-meteo, open-meteo-ensemble, visual-crossing" in str(errors[0].hint)

    settings.WEATHER_SOURCES = ["nws", "open-meteo"]
    assert not [e for e in run_checks() if e.id == "weather.E001"]
