"""ForecastSnapshot.objects.as_of(T): what could we have known at T, and nothing more."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weather.models import City, ForecastSnapshot
from weather.tests.factories import CityFactory

pytestmark = pytest.mark.django_db

DAY = date(2025, 2, 28)
T0 = datetime(2025, 2, 25, tzinfo=UTC)


def snapshot(city, *, hours: int, high: float, source: str = "open-meteo", model: str = "gfs", target: date = DAY):
    available = T0 + timedelta(hours=hours)
    return ForecastSnapshot.objects.create(
        city=city,
        source=source,
        model=model,
        target_date=target,
        available_at=available,
        issued_at=available - timedelta(hours=2),
        high_f=high,
    )


def test_it_returns_the_latest_run_available_at_the_time():
    city = CityFactory()
    snapshot(city, hours=0, high=40)
    snapshot(city, hours=6, high=42)
    later = snapshot(city, hours=12, high=45)
    at_8h = ForecastSnapshot.objects.as_of(T0 + timedelta(hours=8))
    assert list(at_8h.values_list("high_f", flat=True)) == [42]
    assert list(ForecastSnapshot.objects.as_of(later.available_at).values_list("high_f", flat=True)) == [45]
    assert not ForecastSnapshot.objects.as_of(T0 - timedelta(seconds=1)).exists()


def test_each_source_model_city_and_day_keeps_its_own_latest():
    city, other = CityFactory.create(), CityFactory.create()
    snapshot(city, hours=1, high=40, model="gfs")
    snapshot(city, hours=2, high=41, model="ecmwf")
    snapshot(city, hours=3, high=50, target=DAY + timedelta(days=1))
    snapshot(other, hours=4, high=60)
    rows = ForecastSnapshot.objects.as_of(T0 + timedelta(days=1)).filter(city=city, target_date=DAY)
    assert sorted(rows.values_list("model", "high_f")) == [("ecmwf", 41), ("gfs", 40)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hours=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=12, unique=True),
    probe=st.integers(min_value=-5, max_value=210),
)
def test_it_never_returns_anything_available_after_the_time(hours, probe):
    ForecastSnapshot.objects.all().delete()
    city = CityFactory()
    for h in hours:
        snapshot(city, hours=h, high=float(h))
    when = T0 + timedelta(hours=probe)
    result = list(ForecastSnapshot.objects.as_of(when))
    assert all(row.available_at <= when for row in result)
    known = [h for h in hours if h <= probe]
    assert [row.high_f for row in result] == ([float(max(known))] if known else [])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hours=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=10, unique=True),
    probes=st.lists(st.integers(min_value=-5, max_value=130), min_size=1, max_size=5),
)
def test_the_bulk_helper_agrees_with_the_one_at_a_time_helper(hours, probes):
    from weather.services.forecasts import forecasts_known_at, latest_forecasts

    ForecastSnapshot.objects.all().delete()
    city = CityFactory.create()
    for h in hours:
        snapshot(city, hours=h, high=float(h), model="a" if h % 2 else "b")
        snapshot(city, hours=h, high=float(h) + 0.5, target=DAY + timedelta(days=1))
    moments = [(day, T0 + timedelta(hours=p)) for p in probes for day in (DAY, DAY + timedelta(days=1))]
    bulk = forecasts_known_at(city=city, moments=moments)
    for day, when in moments:
        single = latest_forecasts(city=city, target_date=day, as_of=when)
        assert [r.pk for r in bulk[(day, when)]] == [r.pk for r in single]


def test_archives_imported_with_everything_after_d_deleted_give_identical_forecasts_known_at_d(tmp_path):
    """Visual Crossing and HRRR/NBM archives: the importer puts nothing known after D into what was known at D."""
    from weather.history.importer import import_files
    from weather.services.forecasts import forecasts_known_at
    from weather.tests.halsted_files import GUIDANCE_HEADER, guidance_line, vc_available, vc_file

    cutoff = datetime(2025, 1, 6, 12, tzinfo=UTC)
    bases = [date(2025, 1, 1) + timedelta(days=n) for n in range(10)]
    hours = {
        basis: (datetime.combine(basis, datetime.min.time(), UTC) + timedelta(hours=6), [0.0] * 72) for basis in bases
    }
    for n, (_, temps) in enumerate(hours.values()):
        temps[:] = [30.0 + (n * 7 + i * 5) % 23 for i in range(72)]  # every basis forecasts differently
    targets = [date(2025, 1, 2) + timedelta(days=n) for n in range(10)]
    guidance = [guidance_line(day, model, 35.0 + n) for n, day in enumerate(targets) for model in ("hrrr", "nbm")]

    def usable(run: str) -> datetime:
        return datetime.fromisoformat(run) + timedelta(hours=3)

    def files(*, until: datetime | None) -> dict[str, list[Path]]:
        vc = tmp_path / "KXHIGHCHI-hourly.csv.gz"
        kept = {b: h for b, h in hours.items() if until is None or vc_available(b) <= until}
        vc.write_bytes(gzip.compress(vc_file(kept).encode()))
        noaa = tmp_path / "KXHIGHCHI.csv"
        # Known after D by the data's own rule: a run is usable 3 hours after it started.
        runs = [line for line in guidance if until is None or usable(line.split(",")[2]) <= until]
        noaa.write_text(GUIDANCE_HEADER + "".join(runs))
        return {"visual-crossing": [vc], "noaa-guidance": [noaa]}

    city = City.objects.get(high_series_ticker="KXHIGHCHI")
    moments = [(day, cutoff - timedelta(hours=h)) for day in targets for h in (0, 13, 40)]

    def known() -> dict[tuple[date, datetime], list[tuple[object, ...]]]:
        fields = ("source", "model", "available_at", "issued_at", "high_f", "low_f", "n_hours", "quantity")
        return {
            key: [tuple(getattr(row, name) for name in fields) for row in rows]
            for key, rows in forecasts_known_at(city=city, moments=moments).items()
        }

    import_files(files(until=None), now=datetime(2026, 1, 1, tzinfo=UTC))
    everything = known()
    assert {row[0] for rows in everything.values() for row in rows} == {"visual-crossing", "noaa-guidance"}
    ForecastSnapshot.objects.all().delete()
    import_files(files(until=cutoff), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert known() == everything
    ForecastSnapshot.objects.all().delete()
    import_files(files(until=None), now=cutoff)  # the same files, imported at D
    assert known() == everything
