"""importhistory on files shaped like Halsted312/weather_updated's: Visual Crossing, HRRR/NBM, settlements.

Every file is written by the test (see halsted_files); nothing is read from ../shared/data.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command

from markets.history.readers import MalformedLine
from weather.history import noaa_guidance, visual_crossing
from weather.models import City, ForecastSnapshot, Observation
from weather.services.accuracy import forecast_errors, summarise
from weather.services.truth import observed_highs
from weather.tests.halsted_files import (
    GUIDANCE_HEADER,
    guidance_line,
    settlement_file,
    vc_available,
    vc_file,
    vc_line,
)
from weather.tests.test_history_import import utc, weather_report, write

pytestmark = pytest.mark.django_db

VC_CHI = "forecasts/visual-crossing/KXHIGHCHI-hourly.csv.gz"
GUIDANCE_CHI = "forecasts/noaa-guidance/KXHIGHCHI.csv"
SETTLEMENTS_CHI = "observations/settlements-halsted/KXHIGHCHI.csv"


def chicago() -> City:
    return City.objects.get(name="Chicago")


def stored_vc() -> list[tuple[date, date, float | None, float | None, int]]:
    """(available date, target, high, low, n_hours) of every Visual Crossing snapshot."""
    rows = ForecastSnapshot.objects.filter(source="visual-crossing").order_by("available_at", "target_date")
    return [(f.available_at.date(), f.target_date, f.high_f, f.low_f, f.n_hours) for f in rows]


# --- Visual Crossing hourly forecasts ---------------------------------------------------------


def test_each_basis_date_gives_one_forecast_per_climate_day_available_when_the_file_says(tmp_path):
    first = [float(30 + i % 24) for i in range(48)]  # 30..53 °F each day
    second = [float(40 + i % 24) for i in range(24)]
    text = vc_file({date(2025, 1, 10): (utc(2025, 1, 10, 6), first), date(2025, 1, 11): (utc(2025, 1, 11, 6), second)})
    write(tmp_path, VC_CHI, text)
    report = weather_report(tmp_path)
    counts = report.kinds["visual-crossing"]
    assert (counts.files, counts.read, counts.created) == (1, 72, 3)
    assert stored_vc() == [
        (date(2025, 1, 11), date(2025, 1, 10), 53.0, 30.0, 24),
        (date(2025, 1, 11), date(2025, 1, 11), 53.0, 30.0, 24),
        (date(2025, 1, 12), date(2025, 1, 11), 63.0, 40.0, 24),
    ]
    for snapshot in ForecastSnapshot.objects.all():
        assert (snapshot.source, snapshot.model, snapshot.city, snapshot.issued_at) == (
            "visual-crossing",
            "historical-city-aggregate",
            chicago(),
            None,  # the source gives the issue as a date only
        )
        assert snapshot.quantity == ForecastSnapshot.Quantity.HIGH
    # Never earlier than the file's available_at_utc (00:00Z the day after the basis date).
    assert ForecastSnapshot.objects.known_at(vc_available(date(2025, 1, 10)) - timedelta(seconds=1)).count() == 0
    assert ForecastSnapshot.objects.known_at(vc_available(date(2025, 1, 10))).count() == 2
    assert any("3 forecasts of Chicago's climate days from 2 issue dates" in note for note in report.notes)


def test_the_maximum_is_over_the_climate_day_across_the_spring_forward_night(tmp_path):
    # Chicago sprang forward on 2024-03-10. 05:00Z on the 11th is 00:00 CDT on the 11th by the clock
    # but 23:00 CST on the 10th: the 10th's climate day. Likewise 05:00Z on the 12th ends the 11th's.
    temps = [50.0] * 48
    temps[23] = 70.0  # 2024-03-11T05:00Z
    temps[47] = 65.0  # 2024-03-12T05:00Z
    write(tmp_path, VC_CHI, vc_file({date(2024, 3, 10): (utc(2024, 3, 10, 6), temps)}))
    weather_report(tmp_path)
    assert [(target, high, hours) for _, target, high, _, hours in stored_vc()] == [
        (date(2024, 3, 10), 70.0, 24),
        (date(2024, 3, 11), 65.0, 24),
    ]


def test_the_maximum_is_over_the_climate_day_across_the_fall_back_night(tmp_path):
    # Chicago fell back on 2024-11-03 at 07:00Z; the climate day stays 06:00Z to 06:00Z throughout.
    temps = [50.0] * 48
    temps[0] = 71.0  # 2024-11-03T06:00Z: 01:00 CDT by the clock, 00:00 CST: the 3rd's first hour
    temps[24] = 66.0  # 2024-11-04T06:00Z: 00:00 CST on the 4th
    write(tmp_path, VC_CHI, vc_file({date(2024, 11, 3): (utc(2024, 11, 3, 6), temps)}))
    weather_report(tmp_path)
    assert [(target, high) for _, target, high, _, _ in stored_vc()] == [
        (date(2024, 11, 3), 71.0),
        (date(2024, 11, 4), 66.0),
    ]


def test_a_partial_day_is_stored_with_its_hours_and_the_hour_before_the_issue_date_is_not(tmp_path):
    # A basis of 2024-06-02 covers VC's clock days from 00:00 CDT = 05:00Z: its first hour is
    # 23:00 CST on 1 June (a day over before the issue), its last clock day 23 hours of a climate day.
    temps = [60.0 + i % 5 for i in range(48)]
    write(tmp_path, VC_CHI, vc_file({date(2024, 6, 2): (utc(2024, 6, 2, 5), temps)}))
    report = weather_report(tmp_path)
    assert [(target, hours) for _, target, _, _, hours in stored_vc()] == [
        (date(2024, 6, 2), 24),
        (date(2024, 6, 3), 23),
    ]
    assert report.kinds["visual-crossing"].read == 48
    (note,) = [n for n in report.notes if "visual-crossing" in n]
    assert "1 of them of partial days" in note and "1 hours of the climate day before their issue date" in note
    # The partial day's maximum is never scored as a high.
    Observation.objects.create(city=chicago(), date=date(2024, 6, 3), source="iem-cli", high_f=64, is_final=True)
    assert forecast_errors(chicago(), date(2024, 6, 3), date(2024, 6, 3)) == []


def test_rows_not_yet_available_at_the_import_time_are_not_stored(tmp_path):
    text = vc_file(
        {date(2025, 1, 10): (utc(2025, 1, 10, 6), [30.0] * 24), date(2025, 1, 11): (utc(2025, 1, 11, 6), [31.0] * 24)}
    )
    write(tmp_path, VC_CHI, text)
    report = weather_report(tmp_path, now=utc(2025, 1, 11, 12))
    assert [(available, target) for available, target, *_ in stored_vc()] == [(date(2025, 1, 11), date(2025, 1, 10))]
    assert any("1 visual-crossing rows not yet known at the import time" in note for note in report.notes)


def good_vc_lines(count: int) -> list[str]:
    """``count`` hours of one basis from 2025-01-10T06:00Z (Chicago's climate day of the 10th)."""
    return [vc_line(utc(2025, 1, 10, 6) + timedelta(hours=i), date(2025, 1, 9), 30.0 + i) for i in range(count)]


HOUR_24 = "2025-01-11T06:00:00Z,2025-01-11,0,2025-01-09,2025-01-10T00:00:00Z,54.0,"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (HOUR_24.replace("2025-01-11,0", "2025-01-10,24"), "hour_lst 24 is not the climate day"),
        (HOUR_24.replace("2025-01-11,0", "2025-01-11,1"), "(2025-01-11 hour 0)"),
        (HOUR_24.replace("2025-01-11T06:00:00Z,2025-01-11", "2025-01-10T06:00:00Z,2025-01-10"), "does not follow"),
        (HOUR_24.replace("54.0", "warm"), "temp_f 'warm' is not a °F value"),
        (HOUR_24.replace("2025-01-10T00:00:00Z", "2025-01-10T01:00:00Z"), "differs from its earlier hours'"),
        (HOUR_24.replace("2025-01-10T00:00:00Z", "2025-01-10 00:00"), "is not a YYYY-MM-DDTHH:MM:SSZ time"),
    ],
)
def test_a_malformed_hour_names_file_and_line_and_the_days_before_it_are_kept(tmp_path, bad, reason):
    lines = good_vc_lines(30)  # line 26 (the 25th hour) is 2025-01-11T06:00Z, 00:00 CST on the 11th
    assert lines[24].startswith(HOUR_24)
    lines[24] = lines[24].replace(HOUR_24, bad)
    path = write(tmp_path, VC_CHI, "".join([vc_file({}), *lines]))
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert (caught.value.path, caught.value.line) == (path, 26)
    assert reason in caught.value.reason
    assert [(target, high, hours) for _, target, high, _, hours in stored_vc()] == [(date(2025, 1, 10), 53.0, 24)]


def test_a_break_inside_a_day_keeps_its_hours_before_as_a_partial_day_that_a_fixed_file_completes(tmp_path):
    lines = good_vc_lines(34)
    broken = [*lines[:30], lines[30].replace(",60.0,", ",hot,"), *lines[31:]]  # line 32: 06:00 CST on the 11th
    path = write(tmp_path, VC_CHI, "".join([vc_file({}), *broken]))
    with pytest.raises(MalformedLine, match=r":32: temp_f 'hot'"):
        weather_report(tmp_path)
    assert [(target, high, hours) for _, target, high, _, hours in stored_vc()] == [
        (date(2025, 1, 10), 53.0, 24),
        (date(2025, 1, 11), 59.0, 6),  # 00:00-05:00 CST: never read as the day's high
    ]
    path.write_bytes(b"")
    write(tmp_path, VC_CHI, "".join([vc_file({}), *lines]))
    counts = weather_report(tmp_path).kinds["visual-crossing"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 1)
    assert [(target, high, hours) for _, target, high, _, hours in stored_vc()][1] == (date(2025, 1, 11), 63.0, 10)


def test_a_visual_crossing_file_of_a_series_without_a_city_is_skipped_with_a_note(tmp_path):
    write(tmp_path, "forecasts/visual-crossing/KXHIGHZZZ-hourly.csv.gz", vc_file({}))
    report = weather_report(tmp_path)
    assert report.kinds["visual-crossing"].files == 1
    assert any("KXHIGHZZZ-hourly.csv.gz: skipped: no city has the series KXHIGHZZZ" in n for n in report.notes)


# --- NOAA guidance: HRRR and NBM at 15:00 local ----------------------------------------------


def test_guidance_is_the_temperature_at_15_local_issued_at_the_run_and_available_3_hours_later(tmp_path):
    text = GUIDANCE_HEADER + "".join(
        [
            guidance_line(date(2025, 1, 10), "hrrr", 41.2),  # 21:00Z = 15:00 CST
            guidance_line(date(2025, 1, 10), "nbm", 43.63),
            guidance_line(date(2024, 7, 4), "hrrr", 88.0, valid_hour_utc=20),  # 20:00Z = 15:00 CDT
        ]
    )
    write(tmp_path, GUIDANCE_CHI, text)
    counts = weather_report(tmp_path).kinds["noaa-guidance"]
    assert (counts.files, counts.read, counts.created) == (1, 3, 3)
    rows = ForecastSnapshot.objects.order_by("target_date", "model")
    assert [(f.source, f.model, f.target_date, f.high_f, f.low_f) for f in rows] == [
        ("noaa-guidance", "hrrr-t2m-1500", date(2024, 7, 4), 88.0, None),
        ("noaa-guidance", "hrrr-t2m-1500", date(2025, 1, 10), 41.2, None),
        ("noaa-guidance", "nbm-t2m-1500", date(2025, 1, 10), 43.63, None),
    ]
    for snapshot in rows:
        run = datetime.combine(snapshot.target_date - timedelta(days=1), time(12), UTC)
        assert snapshot.issued_at == run
        assert snapshot.available_at == snapshot.issued_at + noaa_guidance.PUBLISHED_WITHIN
        # Not a high: one hour of the day, labelled as what it is.
        assert (snapshot.quantity, snapshot.n_hours) == (ForecastSnapshot.Quantity.T2M_1500_LOCAL, 1)
    assert timedelta(hours=3) == noaa_guidance.PUBLISHED_WITHIN
    assert ForecastSnapshot.objects.known_at(utc(2025, 1, 9, 14, 59)).filter(target_date=date(2025, 1, 10)).count() == 0


def test_guidance_is_scored_against_the_high_under_its_own_label(tmp_path):
    write(tmp_path, GUIDANCE_CHI, GUIDANCE_HEADER + guidance_line(date(2025, 1, 10), "nbm", 43.0))
    weather_report(tmp_path)
    Observation.objects.create(city=chicago(), date=date(2025, 1, 10), source="iem-cli", high_f=46, is_final=True)
    [skill] = summarise(forecast_errors(chicago(), date(2025, 1, 10), date(2025, 1, 10)))
    assert (skill.model, skill.lead_days, skill.n, skill.bias_f, skill.quantity) == (
        "nbm-t2m-1500",
        1,  # run 12Z the day before, available 15Z: the evening before in Chicago
        1,
        -3.0,
        ForecastSnapshot.Quantity.T2M_1500_LOCAL,
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (guidance_line(date(2025, 1, 10), "hrrr", 41.0, valid_hour_utc=20), "is 2025-01-10 14:00 America/Chicago"),
        (guidance_line(date(2024, 7, 4), "hrrr", 88.0), "is 2024-07-04 16:00 America/Chicago, not 15:00 local"),
        (guidance_line(date(2025, 1, 10), "gfs", 41.0), "model 'gfs' is not one of hrrr, nbm"),
        (guidance_line(date(2025, 1, 10), "nbm", 41.0).replace("41.0", ""), "t2m_1500_local_f '' is not a °F value"),
        (guidance_line(date(2025, 1, 10), "nbm", 41.0).replace("2025-01-09T12", "2025-01-10T22"), "is not before"),
    ],
)
def test_a_malformed_guidance_line_names_file_and_line_and_the_rows_before_it_are_kept(tmp_path, line, reason):
    good = guidance_line(date(2025, 1, 9), "hrrr", 40.0)
    path = write(tmp_path, GUIDANCE_CHI, GUIDANCE_HEADER + good + line)
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert reason in caught.value.reason
    assert list(ForecastSnapshot.objects.values_list("target_date", flat=True)) == [date(2025, 1, 9)]


def test_guidance_of_a_series_without_a_city_is_skipped_with_a_note(tmp_path):
    write(
        tmp_path, "forecasts/noaa-guidance/KXHIGHZZZ.csv", GUIDANCE_HEADER + guidance_line(date(2025, 1, 9), "nbm", 4)
    )
    report = weather_report(tmp_path)
    assert ForecastSnapshot.objects.count() == 0
    assert any("skipped: no city has the series KXHIGHZZZ" in n for n in report.notes)


# --- Settlement highs --------------------------------------------------------------------------


def test_settlement_highs_are_cli_values_via_iem_or_ncei_values_under_ghcnd(tmp_path):
    days = [("2024-11-26", 80, "iem"), ("2024-11-27", 81, "iem"), ("2024-11-05", 84, "ncei")]
    write(tmp_path, "observations/settlements-halsted/KXHIGHMIA.csv", settlement_file("KMIA", days))
    report = weather_report(tmp_path)
    assert (report.kinds["settlements-halsted"].read, report.kinds["settlements-halsted"].created) == (3, 3)
    rows = Observation.objects.order_by("date")
    assert [(o.city.name, o.date, o.source, o.high_f, o.low_f, o.is_final, o.reported_at) for o in rows] == [
        ("Miami", date(2024, 11, 5), "ghcnd", 84.0, None, True, None),
        ("Miami", date(2024, 11, 26), "iem-cli", 80.0, None, True, None),
        ("Miami", date(2024, 11, 27), "iem-cli", 81.0, None, True, None),
    ]
    assert any("2 CLI values via IEM (iem-cli), 1 NCEI values where IEM had none (ghcnd)" in n for n in report.notes)


def test_the_cli_value_via_iem_is_truth_before_acis_and_ghcnd():
    miami = City.objects.get(name="Miami")
    for source, high in [("ghcnd", 73), ("acis", 72), ("iem-cli", 71)]:
        Observation.objects.create(city=miami, date=date(2025, 1, 20), source=source, high_f=high, is_final=True)
    [truth] = observed_highs(miami, date(2025, 1, 20), date(2025, 1, 20)).values()
    assert (truth.value_f, truth.source) == (71.0, "iem-cli")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2024-01-02,KORD,40,iem,40,40", "station 'KORD' is not KMDW, the city's settlement station"),
        ("2024-01-02,KMDW,40,ncei,40,40", "breaks the file's rule"),
        ("2024-01-02,KMDW,40,iem,41,40", "expected tmax_iem_f '41' from 'iem'"),
        ("2024-01-02,KMDW,40,iem,,", "expected tmax_ncei_f '' from 'ncei'"),
        ("2024-01-02,KMDW,40.5,iem,40,40", "tmax_final_f '40.5' is not a whole number"),
        ("2024-01-02,KMDW,40,iem,40,forty", "tmax_ncei_f 'forty' is not a whole number"),
    ],
)
def test_a_malformed_settlement_line_names_file_and_line_and_the_rows_before_it_are_kept(tmp_path, line, reason):
    text = settlement_file("KMDW", [("2024-01-01", 35, "iem")]) + line + "\n"
    path = write(tmp_path, SETTLEMENTS_CHI, text)
    with pytest.raises(MalformedLine) as caught:
        weather_report(tmp_path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert reason in caught.value.reason
    assert list(Observation.objects.values_list("date", "high_f")) == [(date(2024, 1, 1), 35.0)]


def test_settlements_of_a_series_without_a_city_are_skipped_with_a_note(tmp_path):
    write(
        tmp_path, "observations/settlements-halsted/KXHIGHZZZ.csv", settlement_file("KZZZ", [("2024-01-01", 1, "iem")])
    )
    report = weather_report(tmp_path)
    assert Observation.objects.count() == 0
    assert any("skipped: no city has the series KXHIGHZZZ" in n for n in report.notes)


# --- The command -----------------------------------------------------------------------------


def test_the_command_draws_a_bar_per_new_kind_and_lists_the_refused_daily_file_with_its_reason(tmp_path):
    write(tmp_path, SETTLEMENTS_CHI, settlement_file("KMDW", [("2025-01-10", 35, "iem")]))
    write(tmp_path, VC_CHI, vc_file({date(2025, 1, 10): (utc(2025, 1, 10, 6), [30.0] * 24)}))
    write(tmp_path, GUIDANCE_CHI, GUIDANCE_HEADER + guidance_line(date(2025, 1, 10), "hrrr", 41.0))
    write(tmp_path, "forecasts/visual-crossing/KXHIGHCHI-daily.csv", "target_date,tempmax_f\n2025-01-10,33.0\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("importhistory", str(tmp_path), stdout=out, stderr=err)
    for kind in ("settlements-halsted", "visual-crossing", "noaa-guidance"):
        assert re.search(rf"^{kind} \(1 file, kB\) +━+ ", err.getvalue(), re.MULTILINE), err.getvalue()
        assert re.search(rf"^  {kind} +1 +", out.getvalue(), re.MULTILINE), out.getvalue()
    assert f"forecasts/visual-crossing/KXHIGHCHI-daily.csv: {visual_crossing.DAILY_REFUSED}" in out.getvalue()
