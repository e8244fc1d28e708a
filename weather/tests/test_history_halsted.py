"""importhistory on files shaped like Halsted312/weather_updated's: settlement highs.

Every file is written by the test (see halsted_files); nothing is read from ../shared/data.
"""

from __future__ import annotations

from datetime import date

import pytest

from markets.history.readers import MalformedLine
from weather.models import City, Observation
from weather.services.truth import observed_highs
from weather.tests.halsted_files import settlement_file
from weather.tests.test_history_import import weather_report, write

pytestmark = pytest.mark.django_db

SETTLEMENTS_CHI = "observations/settlements-halsted/KXHIGHCHI.csv"


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
