"""Walk-forward evaluation on a simulated New York: no look-ahead, and the report's contract."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from markets.models import Event, Trade
from prediction.cases import DecisionTime
from prediction.services.evaluate import evaluate_series, evaluation_report
from prediction.tests.world import build_world, local
from weather.models import ForecastSnapshot, Observation

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TEN = DecisionTime(time(10))
START, D, END = date(2025, 1, 20), date(2025, 2, 10), date(2025, 2, 28)


@pytest.fixture
def world():
    return build_world(first_day=date(2019, 11, 1), first_event=date(2024, 11, 1), last_day=END)


@pytest.fixture
def richer_world():
    """The world with the archived sources' shapes too: forecasts per lead, partial days, guidance."""
    return build_world(first_day=date(2019, 11, 1), first_event=date(2024, 11, 1), last_day=END, more_sources=True)


def forecasts_by_case(evaluation, until):
    return {
        r.case.event_ticker: {name: f.probabilities if f else None for name, f in r.forecasts.items()}
        for r in evaluation.results
        if r.case.target_date <= until
    }


def delete_everything_after(day):
    end_of_day = local(day + timedelta(days=1), time(0))
    Event.objects.filter(target_date__gt=day).delete()
    Trade.objects.filter(created_time__gte=end_of_day).delete()
    Observation.objects.filter(date__gt=day).delete()
    ForecastSnapshot.objects.filter(available_at__gte=end_of_day).delete()


def test_evaluating_day_d_with_everything_after_d_deleted_gives_identical_numbers(richer_world):
    world = richer_world
    longer = evaluate_series(world.series, start=START, end=END, decision=TEN)
    upto_d = evaluate_series(world.series, start=START, end=D, decision=TEN)
    report = evaluation_report([upto_d], decision=TEN, start=START, end=D)

    delete_everything_after(D)
    assert not Event.objects.filter(target_date__gt=D).exists()
    pruned = evaluate_series(world.series, start=START, end=D, decision=TEN)

    assert json.dumps(evaluation_report([pruned], decision=TEN, start=START, end=D), default=str) == json.dumps(
        report, default=str
    )
    # And each day's forecasts are the same as in the run that went on past D.
    assert forecasts_by_case(pruned, D) == forecasts_by_case(longer, D)
    assert len(forecasts_by_case(pruned, D)) == (D - START).days + 1
    assert all(f["model"] is not None and f["weather"] is not None for f in forecasts_by_case(pruned, D).values())
    # The archived sources' forecasts were among the model's inputs.
    inputs = {name for r in pruned.results if (f := r.forecasts["weather"]) for name in f.inputs}
    assert {"visual-crossing/historical-city-aggregate", "noaa-guidance/nbm-t2m-1500"} <= inputs


def test_the_report_beats_climatology_and_names_its_inputs(world):
    evaluation = evaluate_series(world.series, start=START, end=END, decision=TEN)
    report = evaluation_report([evaluation], decision=TEN, start=START, end=END)
    for key in (
        "n_markets",
        "n_events",
        "brier_model",
        "brier_market",
        "brier_climatology",
        "log_loss_model",
        "log_loss_market",
        "log_loss_climatology",
        "crps_model",
        "mae_model",
        "per_series",
        "params",
    ):
        assert key in report, key
    assert report["n_events"] == (END - START).days + 1
    assert report["n_markets"] == 6 * report["n_events"]
    assert report["brier_model"] < report["brier_climatology"]
    assert report["log_loss_model"] < report["log_loss_climatology"]
    ny = report["per_series"]["KXHIGHNY"]
    assert ny["brier_model"] == report["brier_model"]
    assert any("open-meteo/archive" in inputs for inputs in ny["inputs"])
    # The simulated forecast is biased +1 °F: the weather model learns it (MAE well under the 1.5 sd noise).
    assert ny["all_forecasters"]["mae_weather"] < 1.6
    assert ny["brier_model_minus_climatology_ci"][1] < 0


def test_the_command_writes_the_json_contract(world, tmp_path, capsys):
    path = tmp_path / "evaluation.json"
    progress = StringIO()
    call_command(
        "evaluateforecasts",
        "--start",
        str(D),
        "--end",
        str(END),
        "--series",
        "KXHIGHNY",
        "--decision-time",
        "18:00",
        "--day-before",
        "--json",
        str(path),
        stderr=progress,
    )
    report = json.loads(path.read_text())
    assert report["params"]["decision_time"] == "18:00" and report["params"]["day_before"] is True
    assert report["n_events"] == (END - D).days + 1
    contract = ("n_markets", "n_events", "brier_model", "brier_market", "brier_climatology", "brier_weather",
                "log_loss_model", "log_loss_market", "log_loss_climatology", "log_loss_weather", "crps_model",
                "mae_model", "per_series", "params")  # fmt: skip
    assert set(contract) <= set(report) and set(contract[:-2]) <= set(report["per_series"]["KXHIGHNY"])
    combined = report["weather_model_market"]
    assert combined["n_events"] and {"brier_model_minus_market_ci", "mean_weather_weight"} <= set(combined)
    out = capsys.readouterr().out
    assert "18:00 the day before" in out and "KXHIGHNY" in out
    assert "model - mkt [95% CI]" in out and "weights wx/mkt" in out and "Inputs of the model" in out
    assert max(len(line) for line in out.splitlines()) <= 150  # readable: inputs are footnotes, not a column
    # A bar per stage on the error stream, a step per case: the warm-up's and the scored days'.
    assert "KXHIGHNY 18:00 the day before: reading history" in progress.getvalue()
    walked = (END - D).days + 1 + 90
    assert re.search(rf"KXHIGHNY 18:00 the day before: walking forward\W+{walked}/{walked}", progress.getvalue())


def test_the_command_draws_no_bar_at_verbosity_zero(world):
    progress = StringIO()
    arguments = ["--start", str(END), "--end", str(END), "--series", "KXHIGHNY"]
    call_command("evaluateforecasts", *arguments, verbosity=0, stdout=StringIO(), stderr=progress)
    assert progress.getvalue() == ""


def test_the_command_names_what_is_wrong(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="after --end"):
        call_command("evaluateforecasts", "--start", "2025-02-10", "--end", "2025-02-01")
    with pytest.raises(CommandError, match="KXHIGHXX"):
        call_command("evaluateforecasts", "--start", "2025-02-01", "--end", "2025-02-10", "--series", "KXHIGHXX")
