"""Forecast skill by source, model and lead time; stored per day with no look-ahead."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from weather.models import City, ForecastSnapshot, Observation, SourceAccuracy
from weather.services.accuracy import forecast_errors, skill_known_on, summarise, update_source_accuracy

pytestmark = pytest.mark.django_db


def new_york() -> City:
    return City.objects.get(name="New York")


def forecast(target: date, *, available: datetime, high: float, source: str = "om", n_hours: int = 24) -> None:
    ForecastSnapshot.objects.create(
        city=new_york(),
        source=source,
        model="gfs",
        target_date=target,
        available_at=available,
        high_f=high,
        n_hours=n_hours,
    )


def observed(day: date, high: float, source: str = "ghcnd") -> None:
    Observation.objects.create(city=new_york(), date=day, source=source, high_f=high, is_final=True)


def test_lead_is_counted_in_the_stations_climate_days_and_the_last_run_of_the_day_is_scored():
    target = date(2025, 2, 10)
    observed(target, 40)
    # 03:00 UTC on 9 Feb is still 8 Feb in New York's standard time: lead 2.
    forecast(target, available=datetime(2025, 2, 9, 3, tzinfo=UTC), high=50)
    forecast(target, available=datetime(2025, 2, 9, 12, tzinfo=UTC), high=44)  # lead 1, earlier
    forecast(target, available=datetime(2025, 2, 9, 23, tzinfo=UTC), high=42)  # lead 1, last of that day
    forecast(target, available=datetime(2025, 2, 10, 6, tzinfo=UTC), high=41, n_hours=19)  # partial: not scored
    errors = forecast_errors(new_york(), target, target)
    assert [(e.lead_days, e.forecast_f, e.error_f) for e in errors] == [(1, 42, 2), (2, 50, 10)]


def test_a_forecast_made_after_its_day_began_is_not_scored():
    target = date(2025, 2, 10)
    observed(target, 40)
    forecast(target, available=datetime(2025, 2, 11, 6, tzinfo=UTC), high=40.5, source="hindcast")
    assert forecast_errors(new_york(), target, target) == []


def test_mae_and_bias_per_source_model_and_lead():
    for offset, (fc, obs) in enumerate([(42, 40), (38, 40), (43, 40)]):
        day = date(2025, 2, 10) + timedelta(days=offset)
        observed(day, obs)
        forecast(
            day,
            available=datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=18),
            high=fc,
        )
    [skill] = summarise(forecast_errors(new_york(), date(2025, 2, 1), date(2025, 2, 28)))
    assert (skill.source, skill.model, skill.lead_days, skill.n) == ("om", "gfs", 1, 3)
    assert skill.mae_f == pytest.approx(7 / 3)
    assert skill.bias_f == pytest.approx(1.0)


def test_stored_skill_uses_only_days_before_as_of():
    now = datetime(2025, 3, 1, tzinfo=UTC)
    for offset in range(5):
        day = date(2025, 2, 20) + timedelta(days=offset)
        observed(day, 40)
        forecast(day, available=datetime.combine(day, datetime.min.time(), UTC), high=40 + offset)
    update_source_accuracy(city=new_york(), as_of=date(2025, 2, 23), now=now, windows=[30])
    row = SourceAccuracy.objects.get(window_days=30, as_of=date(2025, 2, 23))
    assert row.n == 3  # 20-22 Feb only: errors 0, 1, 2
    assert row.mae_f == pytest.approx(1.0)
    update_source_accuracy(city=new_york(), as_of=date(2025, 2, 25), now=now, windows=[30])
    assert [r.as_of for r in skill_known_on(new_york(), date(2025, 2, 24))] == [date(2025, 2, 23)]
    assert [r.n for r in skill_known_on(new_york(), date(2025, 2, 25))] == [5]
    assert skill_known_on(new_york(), date(2025, 2, 22)) == []


def test_the_report_command_prints_and_writes_json(tmp_path, capsys):
    day = date(2025, 2, 10)
    observed(day, 40, source="acis")
    forecast(day, available=datetime(2025, 2, 9, 20, tzinfo=UTC), high=43)
    out_path = tmp_path / "accuracy.json"
    call_command("forecastaccuracy", "--series", "KXHIGHNY", "--json", str(out_path))
    out = capsys.readouterr().out
    assert "New York (KNYC), climate days 2025-02-10 to 2025-02-10" in out
    assert "Observed highs from: acis 1" in out
    assert "om" in out and "3.00" in out and "+3.00" in out
    data = json.loads(out_path.read_text())
    assert data["skill"] == [
        {"source": "om", "model": "gfs", "lead_days": 1, "n": 1, "mae_f": 3.0, "bias_f": 3.0, "quantity": "high"}
    ]
    assert "not a forecast of the high" not in out


def test_a_predictor_that_is_not_a_high_is_scored_against_the_high_and_says_so(capsys):
    day = date(2025, 2, 10)
    observed(day, 40)
    ForecastSnapshot.objects.create(
        city=new_york(),
        source="noaa-guidance",
        model="nbm-t2m-1500",
        target_date=day,
        available_at=datetime(2025, 2, 9, 15, tzinfo=UTC),
        high_f=37.5,
        n_hours=1,  # one hour of the day: a partial high would not be scored, this predictor is
        quantity=ForecastSnapshot.Quantity.T2M_1500_LOCAL,
    )
    call_command("forecastaccuracy", "--series", "KXHIGHNY")
    out = capsys.readouterr().out
    assert "nbm-t2m-1500" in out and "-2.50  t2m_1500_local" in out
    assert "t2m_1500_local: 2-m temperature at 15:00 local clock time, not a forecast of the high." in out


def test_the_report_command_explains_what_is_missing():
    with pytest.raises(CommandError, match="exactly one of --city or --series"):
        call_command("forecastaccuracy")
    with pytest.raises(CommandError, match="No forecasts are stored for New York"):
        call_command("forecastaccuracy", "--city", "new york")
