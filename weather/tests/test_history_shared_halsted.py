"""The Visual Crossing, HRRR/NBM and settlement files of ../shared/data, imported and checked against the files.

Expected values are computed here straight from the files with the csv module,
independently of the importer's readers; the skill figures are the data
README's own (its Visual Crossing figures are of the clock-day tempmax_f of the
daily files, ours of the climate-day maximum of the hourly files: they may
differ by a few hundredths of a degree, within the README's rounding plus 0.05 °F).
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from markets.history import importer as markets_importer
from markets.services.settlement import check_settlements
from weather.history.importer import import_files
from weather.models import City, ForecastSnapshot, Observation
from weather.services.accuracy import forecast_errors, summarise

pytestmark = [pytest.mark.shared_data, pytest.mark.slow, pytest.mark.django_db]

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
SERIES = ("KXHIGHAUS", "KXHIGHCHI", "KXHIGHDEN", "KXHIGHMIA")
VC_ROWS = {"KXHIGHAUS": 135_426, "KXHIGHCHI": 132_696, "KXHIGHDEN": 132_745, "KXHIGHMIA": 132_731}
GUIDANCE_ROWS = {"KXHIGHAUS": 1_580, "KXHIGHCHI": 1_579}
# README: tempmax_f minus the settled high, (mean error, MAE) in °F for leads 0-3.
VC_SKILL = {
    "KXHIGHAUS": [(-1.3, 2.6), (-1.6, 3.2), (-1.3, 3.6), (-1.3, 3.9)],
    "KXHIGHCHI": [(-3.6, 3.9), (-3.7, 4.2), (-2.8, 3.7), (-2.9, 4.0)],
    "KXHIGHDEN": [(0.1, 3.1), (0.0, 3.7), (-1.0, 3.9), (-0.9, 4.4)],
    "KXHIGHMIA": [(-4.2, 4.3), (-4.5, 4.6), (-4.0, 4.3), (-4.1, 4.3)],
}
# README: t2m_1500_local_f minus the settled high, (mean error, MAE, n); the runs are all lead 1.
GUIDANCE_SKILL = {
    ("KXHIGHAUS", "hrrr-t2m-1500"): (-3.2, 3.9, 790),
    ("KXHIGHAUS", "nbm-t2m-1500"): (-2.2, 3.0, 790),
    ("KXHIGHCHI", "hrrr-t2m-1500"): (-3.5, 4.1, 790),
    ("KXHIGHCHI", "nbm-t2m-1500"): (-2.6, 3.1, 789),
}
CLIMATE_DAY_ALLOWANCE = 0.1  # README rounding (0.05) + the climate-day maxima's difference from tempmax_f


def rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def files(root: Path) -> dict[str, list[Path]]:
    return {
        "settlements-halsted": [root / "observations" / "settlements-halsted" / f"{s}.csv" for s in SERIES],
        "visual-crossing": [root / "forecasts" / "visual-crossing" / f"{s}-hourly.csv.gz" for s in SERIES],
        "noaa-guidance": [root / "forecasts" / "noaa-guidance" / f"{s}.csv" for s in GUIDANCE_ROWS],
    }


def climate_day_forecasts(path: Path) -> dict[tuple[date, date], tuple[float, float, int]]:
    """(basis date, climate day) -> (max, min, hours) from the file's own local-standard-time columns."""
    temps: dict[tuple[date, date], list[float]] = defaultdict(list)
    for row in rows(path):
        basis, day = date.fromisoformat(row["forecast_basis_date"]), date.fromisoformat(row["target_date_lst"])
        if day >= basis:  # the hour before the issue date is not a forecast
            temps[(basis, day)].append(float(row["temp_f"]))
    return {key: (max(values), min(values), len(values)) for key, values in temps.items()}


def stored_forecasts(city: City) -> dict[tuple[date, date], tuple[float | None, float | None, int]]:
    stored = ForecastSnapshot.objects.filter(city=city, source="visual-crossing")
    return {(f.available_at.date() - timedelta(days=1), f.target_date): (f.high_f, f.low_f, f.n_hours) for f in stored}


def test_the_files_import_with_their_counts_and_values_twice_and_score_as_the_readme_says(shared_data_dir):
    taken = files(shared_data_dir)
    first = import_files(taken, now=NOW)
    kinds = first.kinds

    vc = kinds["visual-crossing"]
    expected = {s: climate_day_forecasts(taken["visual-crossing"][i]) for i, s in enumerate(SERIES)}
    assert (vc.files, vc.read) == (4, sum(VC_ROWS.values()))
    assert vc.created == sum(len(days) for days in expected.values())
    for series in SERIES:
        city = City.objects.get(high_series_ticker=series)
        assert stored_forecasts(city) == expected[series], series
        _check_the_daily_file_is_superseded(shared_data_dir, series, city)

    guidance = kinds["noaa-guidance"]
    assert (guidance.files, guidance.read, guidance.created) == (2, 3_159, 3_159)
    for series, count in GUIDANCE_ROWS.items():
        stored = ForecastSnapshot.objects.filter(city__high_series_ticker=series, source="noaa-guidance")
        assert stored.count() == count
        assert set(stored.values_list("quantity", "n_hours")) == {(ForecastSnapshot.Quantity.T2M_1500_LOCAL, 1)}

    settled = kinds["settlements-halsted"]
    assert (settled.files, settled.read, settled.created) == (4, 4 * 790, 4 * 790)
    assert Observation.objects.filter(source="iem-cli").count() == 4 * 790 - 3  # three Miami days are NCEI's
    assert not [note for note in first.notes if "not yet known" in note]

    _check_skill_against_the_readme()

    second = import_files(taken, now=NOW)
    for kind, counts in second.kinds.items():
        assert (kind, counts.created, counts.updated, counts.unchanged) == (kind, 0, 0, kinds[kind].created)


def _check_the_daily_file_is_superseded(root: Path, series: str, city: City) -> None:
    """Every (issue, day) of the refused daily file is among the hourly file's forecasts, available as it says."""
    stored = set(
        ForecastSnapshot.objects.filter(city=city, source="visual-crossing").values_list("target_date", "available_at")
    )
    for row in rows(root / "forecasts" / "visual-crossing" / f"{series}-daily.csv"):
        available = datetime.fromisoformat(row["available_at_utc"].replace("Z", "+00:00"))
        assert (date.fromisoformat(row["target_date"]), available) in stored, (series, row)


def _check_skill_against_the_readme() -> None:
    for series in SERIES:
        city = City.objects.get(high_series_ticker=series)
        skills = summarise(forecast_errors(city, date(2023, 1, 1), date(2025, 2, 28), max_lead=3))
        vc = {s.lead_days: s for s in skills if s.source == "visual-crossing"}
        for lead, (bias, mae) in enumerate(VC_SKILL[series]):
            assert abs(vc[lead].bias_f - bias) <= CLIMATE_DAY_ALLOWANCE, (series, lead, vc[lead])
            assert abs(vc[lead].mae_f - mae) <= CLIMATE_DAY_ALLOWANCE, (series, lead, vc[lead])
        for skill in (s for s in skills if s.source == "noaa-guidance"):
            bias, mae, n = GUIDANCE_SKILL[(series, skill.model)]
            assert (skill.lead_days, skill.n, skill.quantity) == (1, n, ForecastSnapshot.Quantity.T2M_1500_LOCAL)
            # The same values against the same truth: only the README's rounding differs.
            assert abs(skill.bias_f - bias) <= 0.05 + 1e-9 and abs(skill.mae_f - mae) <= 0.05 + 1e-9, skill


def test_the_settlement_highs_match_what_kalshi_settled_on_but_one_miami_day(shared_data_dir):
    kalshi = shared_data_dir / "kalshi"
    markets_importer.import_files(
        {
            "events": [kalshi / "events" / f"{s}.jsonl" for s in SERIES],
            "markets": [kalshi / "markets" / f"{s}.jsonl" for s in SERIES],
        },
        now=NOW,
    )
    import_files({"settlements-halsted": files(shared_data_dir)["settlements-halsted"]}, now=NOW)
    report = check_settlements(now=NOW)
    # README: equal on 197 of 197 Austin and Chicago days, 101 of 101 Denver days, and 195 of 196 Miami days,
    # where on 2024-11-27 the CLI, NCEI and GHCN-Daily all say 81 °F but Kalshi settled at 84. The 197th
    # Miami day, 2024-11-05, has free text for Kalshi's value; its winning bracket gives 84, NCEI's value too.
    assert report.disagree == ["KXHIGHMIA-24NOV27: observed 81.0 (iem-cli), Kalshi settled on 84.00"]
    assert (report.agree, report.unsettled, report.unobserved) == (197 + 197 + 101 + 196, 0, 0)
