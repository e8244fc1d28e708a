"""The weather half of importhistory on small files we write ourselves: every rule and every failure."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kalshiweb.history import import_history
from markets.history.readers import MalformedLine
from weather.history import importer, visual_crossing
from weather.history.importer import ImportReport, classify
from weather.models import City, ForecastSnapshot, Observation
from weather.tests.halsted_files import GUIDANCE_HEADER, guidance_line, settlement_file, vc_file

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
LONG_HEADER = "date,station,element,value_f\n"
FIVETHIRTYEIGHT_HEADER = (
    "date,actual_mean_temp,actual_min_temp,actual_max_temp,average_min_temp,average_max_temp,record_min_temp,"
    "record_max_temp,record_min_temp_year,record_max_temp_year,actual_precipitation,average_precipitation,"
    "record_precipitation\n"
)
ARCHIVE_HEADER = "issue_local,issue_utc,utc_offset_s,target_date_lst,lead_days,fcst_tmax_f,fcst_tmin_f,n_hours\n"
NWS_HEADER = (
    '"date","city","state","forecast_hi_2_prev_PM","forecast_lo_prev_AM","forecast_hi_prev_AM",'
    '"forecast_lo_prev_PM","forecast_hi_prev_PM","forecast_lo_current_AM","forecast_hi_current_AM",'
    '"forecast_lo_current_PM","actual_lo_current_PM","actual_hi_current_PM","actual_lo_next_AM","actual_hi_next_AM"\n'
)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if relative.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def weather_report(root: Path, *, now: datetime = NOW) -> ImportReport:
    report = import_history(root, now=now)
    sections = dict(report.sections)
    return sections["weather.history.importer"]


def city(name: str) -> City:
    return City.objects.get(name=name)


def hourly(first: str, values: list[float]) -> str:
    """An Open-Meteo hourly file: consecutive hours from ``first`` ('YYYY-MM-DDTHH:00')."""
    start = datetime.fromisoformat(first)
    lines = [f"{(start + timedelta(hours=i)).isoformat(timespec='minutes')},{v},0.0" for i, v in enumerate(values)]
    return "time,temperature_2m,apparent_temperature\n" + "\n".join(lines) + "\n"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def nws_row(day: str, city_name: str, state: str, *values: str) -> str:
    cells = [f'"{day}"', f'"{city_name}"', f'"{state}"', *values]
    assert len(cells) == 15
    return ",".join(cells) + "\n"


# --- Routing ---------------------------------------------------------------------------------


def test_it_takes_its_files_and_refuses_the_daily_and_metadata_files_with_a_reason(tmp_path):
    def kind(relative: str) -> tuple[str | None, str | None]:
        return classify(tmp_path, tmp_path / relative)

    assert kind("observations/ghcnd/USW00094728.csv") == ("ghcnd", None)
    assert kind("observations/acis/KNYC.csv") == ("acis", None)
    assert kind("fivethirtyeight/KNYC.csv") == ("fivethirtyeight", None)
    assert kind("forecasts/open-meteo-nyc-archive.csv.gz") == ("open-meteo-archive", None)
    assert kind("forecasts/open-meteo-historical-kxhighny-hourly.csv") == ("open-meteo-historical", None)
    assert kind("forecasts/nws-forecasts-2021-2022.csv") == ("nws-email", None)
    assert kind("observations/settlements-halsted/KXHIGHCHI.csv") == ("settlements-halsted", None)
    assert kind("forecasts/visual-crossing/KXHIGHCHI-hourly.csv.gz") == ("visual-crossing", None)
    assert kind("forecasts/noaa-guidance/KXHIGHAUS.csv") == ("noaa-guidance", None)
    assert kind("forecasts/open-meteo-historical-kxhighny-daily.csv") == (None, importer.DAILY_REFUSED)
    assert "climate day" in importer.DAILY_REFUSED
    assert kind("forecasts/visual-crossing/KXHIGHCHI-daily.csv") == (None, visual_crossing.DAILY_REFUSED)
    assert "clock day" in visual_crossing.DAILY_REFUSED and "supersedes" in visual_crossing.DAILY_REFUSED
    assert kind("forecasts/visual-crossing/README.txt") == (None, importer.UNKNOWN_REFUSED)
    assert kind("forecasts/noaa-guidance/KXHIGHAUS.parquet") == (None, importer.UNKNOWN_REFUSED)
    assert kind("forecasts/cities.csv") == (None, importer.CITIES_REFUSED)
    assert kind("forecasts/notes.txt") == (None, importer.UNKNOWN_REFUSED)
    assert kind("kalshi/events/KXHIGHNY.jsonl") == (None, None)
    assert kind("README.md") == (None, None)


def test_refused_files_are_listed_as_skipped_with_their_reason(tmp_path):
    write(tmp_path, "forecasts/cities.csv", '"city","state"\n')
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-daily.csv", "time,temperature_2m_max\n")
    report = import_history(tmp_path, now=NOW)
    skipped = {path.name: reason for path, reason in report.skipped}
    assert skipped == {
        "cities.csv": importer.CITIES_REFUSED,
        "open-meteo-historical-kxhighny-daily.csv": importer.DAILY_REFUSED,
    }
    assert report.sections == []


# --- GHCN-Daily and ACIS ---------------------------------------------------------------------


def test_ghcnd_puts_tmax_and_tmin_of_a_day_on_one_final_row(tmp_path):
    write(
        tmp_path,
        "observations/ghcnd/USW00013739.csv",
        LONG_HEADER + "1940-07-01,USW00013739,TMAX,76\n1940-07-01,USW00013739,TMIN,56\n"
        "1940-07-02,USW00013739,TMAX,79\n",
    )
    report = weather_report(tmp_path)
    counts = report.kinds["ghcnd"]
    assert (counts.files, counts.read, counts.created, counts.updated) == (1, 3, 2, 0)
    rows = Observation.objects.filter(city=city("Philadelphia"), source=Observation.Source.GHCND).order_by("date")
    assert [(o.date, o.high_f, o.low_f, o.is_final, o.reported_at) for o in rows] == [
        (date(1940, 7, 1), 76.0, 56.0, True, None),
        (date(1940, 7, 2), 79.0, None, True, None),
    ]


def test_a_second_import_adds_and_changes_nothing(tmp_path):
    write(tmp_path, "observations/ghcnd/USW00094728.csv", LONG_HEADER + "2025-02-27,USW00094728,TMAX,50\n")
    write(tmp_path, "observations/acis/KNYC.csv", LONG_HEADER + "2025-02-27,KNYC,TMAX,50\n")
    write(
        tmp_path,
        "fivethirtyeight/KNYC.csv",
        FIVETHIRTYEIGHT_HEADER + "2014-7-1,81,72,89,68,83,52,100,1943,1901,0,0,2\n",
    )
    write(
        tmp_path,
        "forecasts/open-meteo-nyc-archive.csv.gz",
        ARCHIVE_HEADER + "2025-02-27 18:00:00,2025-02-27 23:00:00,-18000,2025-02-28,1,44.1,30.2,24\n",
    )
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", hourly("2025-02-25T00:00", [40.0] * 48))
    write(
        tmp_path,
        "forecasts/nws-forecasts-2021-2022.csv",
        NWS_HEADER + nws_row("2022-01-06", "NEW_YORK_CITY", "NY", *["39"] * 12),
    )
    write(
        tmp_path, "observations/settlements-halsted/KXHIGHCHI.csv", settlement_file("KMDW", [("2025-02-27", 50, "iem")])
    )
    write(
        tmp_path,
        "forecasts/visual-crossing/KXHIGHCHI-hourly.csv.gz",
        vc_file({date(2025, 2, 26): (utc(2025, 2, 26, 6), [40.0] * 48)}),
    )
    write(
        tmp_path,
        "forecasts/noaa-guidance/KXHIGHCHI.csv",
        GUIDANCE_HEADER + guidance_line(date(2025, 2, 27), "nbm", 47.5),
    )
    first = weather_report(tmp_path)
    assert all(counts.created for kind, counts in first.kinds.items())
    second = weather_report(tmp_path)
    assert [(c.created, c.updated) for c in second.kinds.values()] == [(0, 0)] * len(second.kinds)
    assert [c.unchanged for c in second.kinds.values()] == [c.created for c in first.kinds.values()]


def test_a_changed_value_is_updated_and_a_tmax_only_file_keeps_the_stored_low(tmp_path):
    path = write(
        tmp_path,
        "observations/ghcnd/USW00013739.csv",
        LONG_HEADER + "2020-01-01,USW00013739,TMAX,40\n2020-01-01,USW00013739,TMIN,30\n",
    )
    weather_report(tmp_path)
    path.write_text(LONG_HEADER + "2020-01-01,USW00013739,TMAX,41\n")
    counts = weather_report(tmp_path).kinds["ghcnd"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 0)
    stored = Observation.objects.get(city=city("Philadelphia"), source="ghcnd")
    assert (stored.high_f, stored.low_f) == (41.0, 30.0)


def test_a_station_that_is_no_citys_settlement_station_is_skipped_with_a_note(tmp_path):
    write(tmp_path, "observations/ghcnd/USW00099999.csv", LONG_HEADER + "2020-01-01,USW00099999,TMAX,40\n")
    write(tmp_path, "observations/acis/KIAH.csv", LONG_HEADER + "2025-02-21,KIAH,TMAX,41\n")
    write(tmp_path, "observations/acis/KDEN.csv", LONG_HEADER + "2025-02-21,KDEN,TMAX,41\n")
    report = weather_report(tmp_path)
    assert report.kinds["acis"].files == 2
    assert report.kinds["acis"].created == 1
    assert Observation.objects.get().city == city("Denver")
    notes = "\n".join(report.notes)
    assert "USW00099999 is not the settlement station of any city" in notes
    assert "KIAH is not the settlement station of any city (Houston Intercontinental, not Hobby" in notes


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2020-01-02,USW00094728,TMAX,140", "value_f 140.0 °F is outside the plausible -80..135 °F"),
        ("2020-01-02,USW00094728,TMAX,-81", "outside the plausible"),
        ("2020-01-02,USW00094728,TMAX,75.9", "value_f '75.9' is not a whole number of °F"),
        ("2020-01-02,USW00094728,TMAX,", "is not a whole number"),
        ("2020-01-02,USW00014819,TMAX,50", "station 'USW00014819' in a file named after USW00094728"),
        ("2020-01-02,USW00094728,PRCP,3", "element 'PRCP' is not TMAX or TMIN"),
        ("2020-1-2,USW00094728,TMAX,50", "date '2020-1-2' is not a YYYY-MM-DD date"),
        ("2020-02-30,USW00094728,TMAX,50", "is not a calendar date"),
        ("2020-01-01,USW00094728,TMAX,51", "high_f of 2020-01-01 is given again as 51.0, earlier as 50.0 (line 2)"),
        ("2020-01-02,USW00094728,TMAX", "expected 4 fields, found 3"),
    ],
)
def test_a_malformed_line_names_file_and_line_and_the_rows_before_it_are_kept(tmp_path, line, reason):
    path = write(
        tmp_path,
        "observations/ghcnd/USW00094728.csv",
        LONG_HEADER + f"2020-01-01,USW00094728,TMAX,50\n{line}\n2020-01-03,USW00094728,TMAX,52\n",
    )
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert reason in caught.value.reason
    assert list(Observation.objects.values_list("date", "high_f")) == [(date(2020, 1, 1), 50.0)]


def test_a_low_above_the_high_is_malformed(tmp_path):
    write(
        tmp_path,
        "observations/ghcnd/USW00013739.csv",
        LONG_HEADER + "2020-01-01,USW00013739,TMAX,40\n2020-01-01,USW00013739,TMIN,45\n",
    )
    with pytest.raises(MalformedLine, match=r":3: the low 45 °F is above the high 40 °F"):
        weather_report(tmp_path)


def test_a_file_without_the_documented_columns_is_refused_at_line_1(tmp_path):
    write(tmp_path, "observations/acis/KNYC.csv", "day,station,value\n2025-02-21,KNYC,35\n")
    with pytest.raises(MalformedLine, match=r"KNYC.csv:1: header lacks column\(s\) date, element, value_f"):
        weather_report(tmp_path)


# --- FiveThirtyEight -------------------------------------------------------------------------


def test_fivethirtyeight_reads_unpadded_dates_and_skips_kcqt_with_the_reason(tmp_path):
    write(
        tmp_path,
        "fivethirtyeight/KNYC.csv",
        FIVETHIRTYEIGHT_HEADER + "2014-7-1,81,72,89,68,83,52,100,1943,1901,0.00,0.12,2.17\n"
        "2014-12-31,30,25,35,28,40,1,60,1917,1965,0.00,0.10,1.00\n",
    )
    write(
        tmp_path,
        "fivethirtyeight/KCQT.csv",
        FIVETHIRTYEIGHT_HEADER + "2014-7-1,70,63,77,63,82,52,107,1886,1985,0,0,0\n",
    )
    report = weather_report(tmp_path)
    rows = Observation.objects.filter(source=Observation.Source.FIVETHIRTYEIGHT).order_by("date")
    assert [(o.city.name, o.date, o.high_f, o.low_f, o.is_final) for o in rows] == [
        ("New York", date(2014, 7, 1), 89.0, 72.0, True),
        ("New York", date(2014, 12, 31), 35.0, 25.0, True),
    ]
    assert any("KCQT is not the settlement station of any city (downtown Los Angeles" in n for n in report.notes)


def test_a_fivethirtyeight_low_above_its_high_is_malformed(tmp_path):
    write(
        tmp_path,
        "fivethirtyeight/KNYC.csv",
        FIVETHIRTYEIGHT_HEADER + "2014-7-1,81,90,89,68,83,52,100,1943,1901,0,0,2\n",
    )
    with pytest.raises(MalformedLine, match=r"KNYC.csv:2: the low 90 °F is above the high 89 °F"):
        weather_report(tmp_path)


# --- The Open-Meteo NYC archive --------------------------------------------------------------


def test_the_archive_is_available_an_hour_after_the_hour_it_is_named_after(tmp_path):
    write(
        tmp_path,
        "forecasts/open-meteo-nyc-archive.csv.gz",
        ARCHIVE_HEADER + "2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,70.2,56.1,24\n"
        "2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-02,1,70.8,56.7,24\n"
        "2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-03,2,77.6,58.3,23\n",
    )
    report = weather_report(tmp_path)
    counts = report.kinds["open-meteo-archive"]
    assert (counts.read, counts.created) == (3, 2)
    assert any("1 forecasts of partial days (n_hours < 24) were not stored" in note for note in report.notes)
    rows = ForecastSnapshot.objects.order_by("target_date")
    assert [(f.source, f.model, f.city.name, f.target_date, f.high_f, f.low_f) for f in rows] == [
        ("open-meteo", "best_match-lower-manhattan", "New York", date(2023, 10, 1), 70.2, 56.1),
        ("open-meteo", "best_match-lower-manhattan", "New York", date(2023, 10, 2), 70.8, 56.7),
    ]
    assert {(f.issued_at, f.available_at, f.n_hours) for f in rows} == {
        (None, datetime(2023, 10, 1, 10, tzinfo=UTC), 24)
    }
    assert ForecastSnapshot.objects.known_at(datetime(2023, 10, 1, 9, 59, tzinfo=UTC)).count() == 0


def test_the_repeated_1am_of_the_fall_back_night_is_told_apart_by_issue_utc(tmp_path):
    write(
        tmp_path,
        "forecasts/open-meteo-nyc-archive.csv.gz",
        ARCHIVE_HEADER + "2023-11-05 01:00:00,2023-11-05 05:00:00,-14400,2023-11-05,0,60.0,50.0,24\n"
        "2023-11-05 01:00:00,2023-11-05 06:00:00,-18000,2023-11-05,0,61.0,50.0,24\n",
    )
    weather_report(tmp_path)
    assert list(ForecastSnapshot.objects.order_by("available_at").values_list("available_at", "high_f")) == [
        (datetime(2023, 11, 5, 6, tzinfo=UTC), 60.0),
        (datetime(2023, 11, 5, 7, tzinfo=UTC), 61.0),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2023-10-01 06:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,70.2,56.1,24", "issue_local is not issue_utc"),
        ("2023-10-01 04:00:00,2023-10-01 09:00:00,-18000,2023-10-01,0,70.2,56.1,24", "is not New York's offset"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-02,0,70.2,56.1,24", "lead_days 0 does not match"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-09-30,-1,70.2,56.1,24", "lead_days -1 does not match"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,nan,56.1,24", "fcst_tmax_f 'nan' is not"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,170.2,56.1,24", "outside the plausible"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,50.2,56.1,24", "the low 56.1 °F is above"),
        ("2023-10-01 05:00:00,2023-10-01 09:00:00,-14400,2023-10-01,0,70.2,56.1,25", "n_hours 25 is outside"),
        ("2023-10-01T05:00,2023-10-01 09:00:00,-14400,2023-10-01,0,70.2,56.1,24", "is not a YYYY-MM-DD HH:MM:SS"),
    ],
)
def test_an_archive_row_that_contradicts_itself_is_malformed(tmp_path, line, reason):
    write(tmp_path, "forecasts/open-meteo-nyc-archive.csv.gz", ARCHIVE_HEADER + line + "\n")
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert caught.value.line == 2
    assert reason in caught.value.reason


def test_a_truncated_archive_raises_at_the_break_and_keeps_what_came_before(tmp_path):
    rows = [
        f"2024-01-{day:02d} 07:00:00,2024-01-{day:02d} 12:00:00,-18000,2024-01-{day:02d},0,40.0,30.0,24\n"
        for day in range(1, 29)
    ]
    data = gzip.compress((ARCHIVE_HEADER + "".join(rows) * 400).encode())
    path = tmp_path / "forecasts" / "open-meteo-nyc-archive.csv.gz"
    path.parent.mkdir()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MalformedLine, match="truncated or corrupt") as caught:
        weather_report(tmp_path)
    assert caught.value.path == path
    assert ForecastSnapshot.objects.count() == 28  # each day's row repeats; the first 28 lines were read


# --- Open-Meteo historical-forecast hourly files ---------------------------------------------


def test_an_hourly_file_becomes_complete_climate_days_read_at_the_fixed_download_offset(tmp_path):
    # Labels are UTC-4: 2025-01-20T00:00 is 04:00Z, 23:00 EST on the 19th, so it is the 19th's last hour.
    values = [30.0] * 72
    values[24] = 55.0  # label 2025-01-20T00:00
    values[25] = 5.0  # label 2025-01-20T01:00, 00:00 EST on the 20th
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", hourly("2025-01-19T00:00", values))
    report = weather_report(tmp_path)
    counts = report.kinds["open-meteo-historical"]
    assert (counts.read, counts.created) == (72, 2)  # the 18th (one hour) and the 22nd (23 hours) are partial
    rows = ForecastSnapshot.objects.filter(source="open-meteo-historical").order_by("target_date")
    assert [(f.target_date, f.high_f, f.low_f, f.model, f.issued_at) for f in rows] == [
        (date(2025, 1, 19), 55.0, 30.0, "best_match-city-centre", None),
        (date(2025, 1, 20), 30.0, 5.0, "best_match-city-centre", None),
    ]
    # Available only after the climate day (05:00Z the next day) plus 12 hours.
    assert rows[0].available_at == datetime(2025, 1, 20, 17, tzinfo=UTC)
    assert any("hours read as UTC-4" in n and "2 incomplete days not stored" in n for n in report.notes)


def test_a_city_in_another_zone_gets_its_own_standard_time_day(tmp_path):
    # Denver's climate day starts 07:00Z: label 2025-01-20T02:00 (06:00Z) is still the 19th.
    values = [20.0] * 72
    values[26] = 60.0  # label 2025-01-20T02:00
    values[27] = 61.0  # label 2025-01-20T03:00, 00:00 MST on the 20th
    write(tmp_path, "forecasts/open-meteo-historical-kxhighden-hourly.csv", hourly("2025-01-19T00:00", values))
    weather_report(tmp_path)
    rows = ForecastSnapshot.objects.filter(city=city("Denver")).order_by("target_date")
    assert [(f.target_date, f.high_f) for f in rows] == [(date(2025, 1, 19), 60.0), (date(2025, 1, 20), 61.0)]
    assert rows[0].available_at == datetime(2025, 1, 20, 19, tzinfo=UTC)


def test_a_zero_among_miami_warmth_is_a_fill_but_a_zero_in_a_denver_cold_snap_is_weather(tmp_path):
    miami = [65.0] * 72
    miami[40] = 0.0
    write(tmp_path, "forecasts/open-meteo-historical-kxhighmia-hourly.csv", hourly("2025-01-19T00:00", miami))
    denver = [-3.0 + 2 * (i % 4) for i in range(72)]  # -3, -1, 1, 3 °F
    denver[40] = denver[41] = 0.0
    write(tmp_path, "forecasts/open-meteo-historical-kxhighden-hourly.csv", hourly("2025-01-19T00:00", denver))
    report = weather_report(tmp_path)
    miami_days = ForecastSnapshot.objects.filter(city=city("Miami")).values_list("target_date", flat=True)
    assert list(miami_days) == [date(2025, 1, 19)]  # the 20th lost an hour
    assert ForecastSnapshot.objects.filter(city=city("Denver")).count() == 2
    notes = "\n".join(report.notes)
    assert "1 zero-filled hours treated as missing" in notes
    assert "0 zero-filled hours treated as missing" in notes


def test_a_run_of_zeros_or_a_zero_at_the_file_edge_is_a_fill(tmp_path):
    denver = [1.0] * 72
    denver[30:33] = [0.0, 0.0, 0.0]  # three hours of exactly 0.0: not a reading
    denver[71] = 0.0  # no hour after it to believe it by
    write(tmp_path, "forecasts/open-meteo-historical-kxhighden-hourly.csv", hourly("2025-01-19T00:00", denver))
    report = weather_report(tmp_path)
    assert any("4 zero-filled hours treated as missing" in note for note in report.notes)
    assert list(ForecastSnapshot.objects.values_list("target_date", flat=True)) == [date(2025, 1, 19)]


def test_the_spring_forward_night_keeps_its_2am_row_because_the_clock_never_changed(tmp_path):
    values = [float(40 + i % 3) for i in range(72)]
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", hourly("2025-03-08T00:00", values))
    weather_report(tmp_path)
    assert list(ForecastSnapshot.objects.order_by("target_date").values_list("target_date", flat=True)) == [
        date(2025, 3, 8),
        date(2025, 3, 9),
    ]


@pytest.mark.parametrize(
    ("rows", "bad_line", "reason"),
    [
        (["2025-11-02T00:00", "2025-11-02T01:00", "2025-11-02T01:00"], 4, "does not follow the previous row"),
        (["2025-03-09T00:00", "2025-03-09T01:00", "2025-03-09T03:00"], 4, "a repeated or skipped hour"),
        (["2025-03-09T00:00", "2025-03-09T01:30"], 3, "is not a YYYY-MM-DDTHH:00 hour"),
    ],
)
def test_a_repeated_or_skipped_hour_means_another_clock_and_is_refused(tmp_path, rows, bad_line, reason):
    text = "time,temperature_2m\n" + "".join(f"{row},40.0\n" for row in rows)
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", text)
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert caught.value.line == bad_line
    assert reason in caught.value.reason


def test_days_before_a_malformed_hour_are_kept(tmp_path):
    text = hourly("2025-01-19T00:00", [30.0] * 60).replace("2025-01-21T10:00,30.0", "2025-01-21T10:00,warm")
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", text)
    with pytest.raises(MalformedLine, match=r":60: temperature_2m 'warm' is not a °F value"):
        weather_report(tmp_path)
    # The 19th and 20th were complete before line 60; the 21st was cut short.
    stored = ForecastSnapshot.objects.order_by("target_date").values_list("target_date", flat=True)
    assert list(stored) == [date(2025, 1, 19), date(2025, 1, 20)]


def test_a_day_that_is_not_over_and_settled_by_now_is_not_stored(tmp_path):
    write(tmp_path, "forecasts/open-meteo-historical-kxhighny-hourly.csv", hourly("2025-01-19T00:00", [30.0] * 72))
    report = weather_report(tmp_path, now=datetime(2025, 1, 21, 12, tzinfo=UTC))
    assert list(ForecastSnapshot.objects.values_list("target_date", flat=True)) == [date(2025, 1, 19)]
    assert any("1 open-meteo-historical rows not yet known at the import time" in n for n in report.notes)


def test_an_hourly_file_of_a_series_without_a_city_is_skipped_with_a_note(tmp_path):
    write(tmp_path, "forecasts/open-meteo-historical-kxhighzzz-hourly.csv", hourly("2025-01-19T00:00", [30.0] * 30))
    report = weather_report(tmp_path)
    assert ForecastSnapshot.objects.count() == 0
    assert any("skipped: no city has the series KXHIGHZZZ" in n for n in report.notes)


# --- NWS list-server e-mails -----------------------------------------------------------------


def test_nws_forecasts_are_stamped_with_the_email_schedule_and_keep_only_highs(tmp_path):
    # 2_prev_PM, lo_prev_AM, hi_prev_AM, lo_prev_PM, hi_prev_PM, lo_cur_AM, hi_cur_AM, lo_cur_PM, actuals...
    values = ["34", "21", "34", "21", "35", "18", "35", "19", "28", "34", "21", "34"]
    write(
        tmp_path,
        "forecasts/nws-forecasts-2021-2022.csv",
        NWS_HEADER + nws_row("2022-01-07", "NEW_YORK_CITY", "NY", *values),
    )
    report = weather_report(tmp_path)
    assert (report.kinds["nws-email"].read, report.kinds["nws-email"].created) == (1, 4)
    rows = ForecastSnapshot.objects.filter(source="nws-email").order_by("available_at")
    assert [(f.model, f.issued_at, f.available_at, f.high_f, f.low_f) for f in rows] == [
        ("2_prev_PM", utc(2022, 1, 6, 0, 50), utc(2022, 1, 6, 1, 50), 34.0, None),
        ("prev_AM", utc(2022, 1, 6, 12, 50), utc(2022, 1, 6, 13, 50), 34.0, None),
        ("prev_PM", utc(2022, 1, 7, 0, 50), utc(2022, 1, 7, 1, 50), 35.0, None),
        ("current_AM", utc(2022, 1, 7, 12, 50), utc(2022, 1, 7, 13, 50), 35.0, None),
    ]
    observed = Observation.objects.get(source=Observation.Source.NWS_CITY)
    assert (observed.date, observed.high_f, observed.low_f, observed.is_final) == (date(2022, 1, 7), 34.0, None, False)
    assert observed.reported_at == utc(2022, 1, 8, 12, 50)


def test_nws_observations_only_where_the_table_is_the_settlement_station(tmp_path):
    values = ["80", "60", "81", "61", "82", "62", "83", "63", "64", "84", "65", "85"]
    text = NWS_HEADER + "".join(
        nws_row("2021-06-01", name, state, *values)
        for name, state in [
            ("MIAMI_BEACH", "FL"),
            ("PHILADELPHIA", "PA"),
            ("CHICAGO", "IL"),
            ("LOS_ANGELES", "CA"),
            ("HOUSTON_INTCNTL", "NA"),
            ("ABILENE", "TX"),
        ]
    )
    write(tmp_path, "forecasts/nws-forecasts-2021-2022.csv", text)
    report = weather_report(tmp_path)
    by_city = {
        name: ForecastSnapshot.objects.filter(city__name=name).count()
        for name in ["Miami", "Philadelphia", "Chicago", "Los Angeles", "Houston"]
    }
    assert by_city == {"Miami": 4, "Philadelphia": 4, "Chicago": 4, "Los Angeles": 0, "Houston": 0}
    assert list(Observation.objects.values_list("city__name", "high_f")) == [("Miami", 85.0)]
    assert (report.kinds["nws-city"].read, report.kinds["nws-city"].created) == (1, 1)
    (note,) = [n for n in report.notes if "rows of" in n]
    assert "3 rows of 3 cities whose station is not a settlement station were skipped" in note
    assert "LOS_ANGELES (downtown Los Angeles, not LAX" in note
    assert "HOUSTON_INTCNTL (Houston Intercontinental (IAH), not Hobby (KHOU))" in note


def test_na_is_missing_and_every_row_is_validated_even_for_cities_not_imported(tmp_path):
    values = ["NA"] * 11 + ["70"]
    good = nws_row("2021-06-01", "NEW_YORK_CITY", "NY", *values)
    bad = nws_row("2021-06-01", "ABILENE", "TX", *(["70"] * 11 + ["hot"]))
    path = write(tmp_path, "forecasts/nws-forecasts-2021-2022.csv", NWS_HEADER + good + bad)
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert "actual_hi_next_AM 'hot' is not a whole number of °F" in caught.value.reason
    assert ForecastSnapshot.objects.count() == 0  # all NA
    assert list(Observation.objects.values_list("high_f", flat=True)) == [70.0]  # kept: before the bad line


# --- The command -----------------------------------------------------------------------------


def test_the_command_prints_weather_counts_and_fails_with_file_and_line(tmp_path, capsys):
    write(tmp_path, "observations/acis/KNYC.csv", LONG_HEADER + "2025-02-21,KNYC,TMAX,35\n")
    call_command("importhistory", str(tmp_path))
    out = capsys.readouterr().out
    assert "acis" in out
    assert "Skipped" not in out
    write(tmp_path, "observations/acis/KMIA.csv", LONG_HEADER + "2025-02-21,KMIA,TMAX,350\n")
    with pytest.raises(CommandError, match=r"KMIA.csv:2: value_f 350.0 °F is outside"):
        call_command("importhistory", str(tmp_path))
