"""importhistory on the real weather history in ../shared/data: counts match the files' own, twice.

The expected counts are computed here straight from the files with the csv
module, independently of the importer's readers.
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from weather.climate import climate_day_window
from weather.history.importer import FORECAST_KINDS, KINDS, classify, import_files
from weather.models import City, ForecastSnapshot, Observation

pytestmark = [pytest.mark.shared_data, pytest.mark.slow, pytest.mark.django_db]

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
NWS_HIGHS = ("forecast_hi_2_prev_PM", "forecast_hi_prev_AM", "forecast_hi_prev_PM", "forecast_hi_current_AM")
NWS_FORECAST_CITIES = {"NEW_YORK_CITY", "MIAMI_BEACH", "PHILADELPHIA", "CHICAGO"}
NWS_OBSERVED_CITIES = {"NEW_YORK_CITY", "MIAMI_BEACH"}


def rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def weather_files(root: Path) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        kind, _ = classify(root, path)
        if kind is not None:
            files[kind].append(path)
    return files


def station_counts(paths: list[Path], lookup: str) -> tuple[int, int]:
    """(lines, distinct days) of the files whose station is a city's settlement station."""
    lines = days = 0
    for path in paths:
        if City.objects.filter(**{lookup: path.name.split(".")[0]}).exists():
            table = rows(path)
            lines += len(table)
            days += len({row["date"] for row in table})
    return lines, days


def complete_days(path: Path, offset_minutes: int) -> dict[str, tuple[float, float]]:
    """Climate days with all 24 hours, read at the download's fixed UTC-4, as (high, low)."""
    hours: dict[str, list[float]] = defaultdict(list)
    for row in rows(path):
        utc = datetime.fromisoformat(row["time"]) + timedelta(hours=4)
        standard = utc + timedelta(minutes=offset_minutes)
        hours[standard.date().isoformat()].append(float(row["temperature_2m"]))
    return {day: (max(values), min(values)) for day, values in hours.items() if len(values) == 24}


@pytest.fixture(scope="module")
def expected(shared_data_dir, django_db_blocker):
    with django_db_blocker.unblock():
        files = weather_files(shared_data_dir)
        nws = rows(files["nws-email"][0])
        historical = {}
        for path in files["open-meteo-historical"]:
            city = City.objects.get(high_series_ticker=path.name.split("-")[3].upper())
            historical[city.name] = complete_days(path, city.standard_utc_offset_minutes)
        return {
            "files": files,
            "ghcnd": station_counts(files["ghcnd"], "ghcn_id"),
            "acis": station_counts(files["acis"], "station_icao"),
            "fivethirtyeight": station_counts(files["fivethirtyeight"], "station_icao"),
            "archive": rows(files["open-meteo-archive"][0]),
            "historical": historical,
            "nws_rows": len(nws),
            "nws_forecasts": sum(
                row[column] != "NA" for row in nws if row["city"] in NWS_FORECAST_CITIES for column in NWS_HIGHS
            ),
            "nws_observations": sum(
                row["actual_hi_next_AM"] != "NA" for row in nws if row["city"] in NWS_OBSERVED_CITIES
            ),
            "nws_observation_rows": sum(row["city"] in NWS_OBSERVED_CITIES for row in nws),
        }


def test_the_shared_weather_history_imports_with_the_files_counts_and_a_second_run_changes_nothing(expected):
    files = expected["files"]
    assert set(files) == set(KINDS)
    first = import_files(files, now=NOW)
    kinds = first.kinds

    ghcnd_lines, ghcnd_days = expected["ghcnd"]
    assert (kinds["ghcnd"].files, kinds["ghcnd"].read, kinds["ghcnd"].created) == (5, ghcnd_lines, ghcnd_days)
    acis_lines, acis_days = expected["acis"]
    assert (kinds["acis"].files, kinds["acis"].read, kinds["acis"].created) == (19, acis_lines, acis_days)
    assert acis_lines == 18 * 8  # every ACIS station but KIAH
    fte_lines, fte_days = expected["fivethirtyeight"]
    assert (kinds["fivethirtyeight"].read, kinds["fivethirtyeight"].created) == (fte_lines, fte_days)
    assert fte_days == 6 * 365  # KHOU, KMDW, KNYC, KPHL, KPHX, KSEA; not KCLT, KCQT, KIND, KJAX

    archive = expected["archive"]
    assert kinds["open-meteo-archive"].read == len(archive) == 161_411
    assert kinds["open-meteo-archive"].created == sum(row["n_hours"] == "24" for row in archive)

    historical = expected["historical"]
    assert kinds["open-meteo-historical"].read == 5 * 984
    assert kinds["open-meteo-historical"].created == sum(len(days) for days in historical.values()) == 5 * 40

    assert (kinds["nws-email"].read, kinds["nws-email"].created) == (expected["nws_rows"], expected["nws_forecasts"])
    assert (kinds["nws-city"].read, kinds["nws-city"].created) == (
        expected["nws_observation_rows"],
        expected["nws_observations"],
    )

    for source, kind in [("ghcnd", "ghcnd"), ("acis", "acis"), ("fivethirtyeight", "fivethirtyeight")]:
        assert Observation.objects.filter(source=source).count() == kinds[kind].created
    assert Observation.objects.filter(source="nws-city").count() == expected["nws_observations"]
    assert ForecastSnapshot.objects.count() == sum(kinds[kind].created for kind in FORECAST_KINDS)
    assert not [note for note in first.notes if "not yet known" in note]

    second = import_files(files, now=NOW)
    for kind, counts in second.kinds.items():
        # The settlement files' few NCEI values are the GHCN-Daily files' own: unchanged the first time too.
        stored = kinds[kind].created + kinds[kind].unchanged
        assert (kind, counts.created, counts.updated, counts.unchanged) == (kind, 0, 0, stored)


def test_the_shared_hourly_days_hold_the_files_extremes_and_are_known_only_after_the_day(expected):
    import_files({"open-meteo-historical": expected["files"]["open-meteo-historical"]}, now=NOW)
    for name, days in expected["historical"].items():
        city = City.objects.get(name=name)
        stored = ForecastSnapshot.objects.filter(city=city, source="open-meteo-historical")
        assert {f.target_date.isoformat(): (f.high_f, f.low_f) for f in stored} == days
        for snapshot in stored:
            _, end = climate_day_window(snapshot.target_date, city.standard_utc_offset_minutes)
            assert snapshot.available_at >= end
