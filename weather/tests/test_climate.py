from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weather.climate import climate_date_at, climate_day_window, standard_time_zone, zone_standard_offset_minutes
from weather.models import City

# The 2025 US DST changes: 9 March (spring forward) and 2 November (fall back).
DST_EDGE_DAYS = [
    date(2025, 3, 8),
    date(2025, 3, 9),
    date(2025, 3, 10),
    date(2025, 11, 1),
    date(2025, 11, 2),
    date(2025, 11, 3),
]


def test_new_york_climate_day_is_midnight_to_midnight_est_all_year():
    assert climate_day_window(date(2025, 1, 15), -300) == (
        datetime(2025, 1, 15, 5, tzinfo=UTC),
        datetime(2025, 1, 16, 5, tzinfo=UTC),
    )
    # In July the clock says 01:00 EDT at the start: still 05:00 UTC.
    start, end = climate_day_window(date(2025, 7, 4), -300)
    assert start == datetime(2025, 7, 4, 5, tzinfo=UTC)
    assert start.astimezone(ZoneInfo("America/New_York")).hour == 1
    assert end - start == timedelta(hours=24)


@pytest.mark.django_db
@pytest.mark.parametrize("day", DST_EDGE_DAYS, ids=str)
def test_every_city_gets_a_24_hour_standard_time_window_across_dst(day):
    for city in City.objects.all():
        start, end = city.climate_day_window(day)
        assert end - start == timedelta(hours=24), city.name
        assert start.tzinfo is UTC
        assert start == datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(
            minutes=city.standard_utc_offset_minutes
        ), city.name
        local_start = start.astimezone(ZoneInfo(city.timezone))
        dst_in_force = bool(local_start.dst())
        assert local_start.hour == (1 if dst_in_force else 0), (city.name, day)
        assert climate_date_at(start, city.standard_utc_offset_minutes) == day
        assert climate_date_at(end - timedelta(microseconds=1), city.standard_utc_offset_minutes) == day


@pytest.mark.django_db
def test_the_seeded_offsets_match_each_zones_standard_time():
    for city in City.objects.all():
        assert zone_standard_offset_minutes(city.timezone) == city.standard_utc_offset_minutes, city.name


def test_phoenix_has_no_dst_and_the_southern_hemisphere_works():
    assert zone_standard_offset_minutes("America/Phoenix") == -420
    assert zone_standard_offset_minutes("Australia/Sydney") == 600
    with pytest.raises(ValueError, match="unknown time zone"):
        zone_standard_offset_minutes("Mars/Olympus_Mons")


def test_it_rejects_naive_datetimes_and_absurd_offsets():
    with pytest.raises(ValueError, match="aware"):
        climate_date_at(datetime(2025, 1, 1, 12), -300)  # naive on purpose
    with pytest.raises(ValueError, match="outside"):
        standard_time_zone(-900)


@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    offset=st.sampled_from([-600, -540, -480, -420, -360, -300, -240, 0, 60]),
)
def test_every_instant_lies_in_the_window_of_its_climate_day(instant, offset):
    day = climate_date_at(instant, offset)
    start, end = climate_day_window(day, offset)
    assert start <= instant < end
