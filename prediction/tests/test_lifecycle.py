"""The model's lifecycle on a simulated New York: train, store, promote only if better, predict."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from markets.models import Event, Market, Trade
from prediction.artifact import BracketModel, SeriesModel
from prediction.cases import DecisionTime
from prediction.combination import WEATHER_ALONE
from prediction.dataset import live_cases
from prediction.forecasters import ModelForecaster
from prediction.models import ModelVersion, Prediction
from prediction.predictor import predict
from prediction.services.evaluate import SeriesEvaluation
from prediction.services.predict import exact_split, predict_open_events
from prediction.services.training import MODEL_NAME, load_artifact, train_bracket_model, train_series
from prediction.tests.world import build_world, local
from weather.models import ForecastSnapshot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LAST = date(2025, 2, 28)
NOW = datetime(2025, 3, 1, 17, tzinfo=UTC)  # noon in New York: Feb 28's high is out, Mar 1 is trading
TEN = DecisionTime(time(10))


@pytest.fixture
def world():
    return build_world(first_day=date(2024, 6, 1), first_event=date(2024, 11, 1), last_day=LAST)


def train(now=NOW, **kwargs):
    return train_bracket_model(now=now, use_correction=False, **kwargs)


def open_event(world, day: date, *, synced_at: datetime):
    """Tomorrow's event, listed and quoted, with the morning's forecast."""
    event = Event.objects.create(series=world.series, event_ticker=f"KXHIGHNY-{day:%y%b%d}".upper(), target_date=day)
    ladder: list[tuple[str, int | None, int | None, str]] = [
        ("less", None, 40, "T40"),
        ("between", 40, 41, "B40.5"),
        ("between", 42, 43, "B42.5"),
        ("greater", 43, None, "T43"),
    ]
    quotes = [("0.08", "0.10"), ("0.40", "0.44"), ("0.34", "0.38"), ("0.10", "0.13")]
    for (kind, floor, cap, suffix), (bid, ask) in zip(ladder, quotes, strict=True):
        Market.objects.create(
            event=event,
            ticker=f"{event.event_ticker}-{suffix}",
            strike_type=kind,
            floor_strike=None if floor is None else Decimal(floor),
            cap_strike=None if cap is None else Decimal(cap),
            status=Market.Status.ACTIVE,
            open_time=local(day - timedelta(days=1), time(10)),
            yes_bid=Decimal(bid),
            yes_ask=Decimal(ask),
            synced_at=synced_at,
        )
    ForecastSnapshot.objects.create(
        city=world.city, source="open-meteo", model="archive", target_date=day,
        available_at=local(day, time(8)), high_f=42.0, n_hours=24,
    )  # fmt: skip
    return event


def test_a_trained_version_stores_its_window_scores_and_a_readable_artifact(world):
    outcome = train()
    version = outcome.version
    assert (version.name, version.version, version.kind) == (MODEL_NAME, 1, "blend")
    assert version.trained_at == NOW and version.training_end == LAST
    assert version.artifact_sha256 == hashlib.sha256(bytes(version.artifact)).hexdigest()
    model = load_artifact(version)
    assert list(model.series) == ["KXHIGHNY"]
    assert [s.decision.label() for s in model.series["KXHIGHNY"].slots] == [
        "18:00 the day before",
        "10:00 on the day",
        "14:00 on the day",
    ]
    assert "open-meteo/archive" in version.features
    overall = version.validation_scores["overall"]
    assert overall["n_events"] >= 100 and overall["brier_model"] < 0.2
    assert version.validation_scores["KXHIGHNY 10:00 on the day"]["n_events"] == 56
    # The first model with enough validated events is promoted, and trading may use it.
    assert outcome.promoted and version.status == "promoted"
    assert ModelVersion.objects.readiness(now=NOW, max_age=timedelta(days=14)).model == version


def test_the_artifact_round_trips_and_a_damaged_one_is_refused(world):
    version = train().version
    model = load_artifact(version)
    assert BracketModel.from_json(model.to_json()) == model
    version.artifact = bytes(version.artifact)[:-1] + b"x"
    with pytest.raises(ValueError, match="SHA-256"):
        load_artifact(version)


def test_a_new_version_is_not_promoted_without_new_events_to_compare_on(world):
    first = train().version
    second = train(now=NOW + timedelta(hours=1))
    assert not second.promoted and second.version.status == "candidate"
    assert f"{first} stays: only 0 events since it was trained" in second.reason
    first.refresh_from_db()
    assert first.status == "promoted"


def test_a_better_version_replaces_a_worse_one_on_the_events_since(world):
    early = train(now=datetime(2025, 2, 5, 17, tzinfo=UTC)).version
    sabotage(early, shift_f=6.0)  # a promoted model that is badly off from here on
    outcome = train()
    assert outcome.promoted, outcome.reason
    assert outcome.reason.startswith("promoted: log loss")
    early.refresh_from_db()
    assert (early.status, outcome.version.status) == ("retired", "promoted")


def test_a_promoted_version_that_cannot_be_read_is_replaced_by_a_readable_one(world):
    early = train(now=datetime(2025, 2, 5, 17, tzinfo=UTC)).version
    # As an artifact written by an older kalshiweb would be (version 1 pooled linearly).
    body = zlib.compress(b'{"kind": "kalshiweb-bracket-model", "version": 1, "series": []}')
    ModelVersion.objects.filter(pk=early.pk).update(artifact=body, artifact_sha256=hashlib.sha256(body).hexdigest())
    outcome = train()
    assert outcome.promoted and "artifact cannot be read" in outcome.reason
    early.refresh_from_db()
    assert (early.status, outcome.version.status) == ("retired", "promoted")


def sabotage(version: ModelVersion, *, shift_f: float) -> None:
    """Shift every stored pattern's mean and ignore the market: the stored model is now plainly worse."""
    model = load_artifact(version)
    series = {}
    for ticker, series_model in model.series.items():
        slots = []
        for slot in series_model.slots:
            patterns = tuple(
                replace(p, emos=replace(p.emos, intercept=p.emos.intercept + shift_f)) for p in slot.patterns
            )
            slots.append(replace(slot, patterns=patterns, combination=WEATHER_ALONE))
        series[ticker] = SeriesModel(ticker, tuple(slots))
    body = zlib.compress(BracketModel(series, micro=model.micro).to_json().encode())
    ModelVersion.objects.filter(pk=version.pk).update(artifact=body, artifact_sha256=hashlib.sha256(body).hexdigest())


def test_open_events_get_probabilities_that_sum_to_exactly_one(world):
    train()
    event = open_event(world, date(2025, 3, 1), synced_at=NOW - timedelta(minutes=3))
    run = predict_open_events(now=NOW)
    [prediction] = run.predictions
    assert prediction.event == event and prediction.as_of == NOW
    probabilities = {b.market.ticker.rsplit("-", 1)[1]: b.probability for b in prediction.brackets.all()}
    assert set(probabilities) == {"T40", "B40.5", "B42.5", "T43"}
    assert sum(probabilities.values()) == Decimal(1)
    assert all(Decimal(0) <= p <= Decimal(1) for p in probabilities.values())
    assert prediction.mean_f == pytest.approx(42.0 - 1.0, abs=1.5)  # the simulated forecast runs 1 °F warm
    assert "open-meteo/archive" in prediction.inputs["model"] and "market" in prediction.inputs["model"]
    assert prediction.inputs["ladder_centre_f"] == 41.5
    # Running again at the same time replaces, never duplicates.
    predict_open_events(now=NOW)
    assert Prediction.objects.count() == 1


def test_no_predictions_without_a_ready_model_and_the_reason_is_given(world):
    open_event(world, date(2025, 3, 1), synced_at=NOW)
    run = predict_open_events(now=NOW)
    assert (run.predictions, run.reason) == ([], "no promoted model yet")
    train()
    stale = predict_open_events(now=NOW + timedelta(days=30))
    assert stale.predictions == [] and "trained more than 14 days ago" in stale.reason


def test_exact_split_puts_rounding_drift_on_the_largest():
    values = exact_split((1 / 3, 1 / 3, 1 / 3))
    assert sum(values) == Decimal(1)
    assert values[0] == Decimal("0.33333334") and values[1:] == [Decimal("0.33333333")] * 2


def fitting_model(evaluation: SeriesEvaluation) -> ModelForecaster:
    return next(f for f in evaluation.forecasters if isinstance(f, ModelForecaster))


def test_a_stored_model_predicts_exactly_as_the_fitted_model_it_was_frozen_from(world):
    slots = train_series(world.series, now=NOW, use_correction=True, micro=False)
    frozen = BracketModel({"KXHIGHNY": SeriesModel("KXHIGHNY", tuple(s.model for s in slots if s.model))}, micro=False)
    stored = BracketModel.from_json(frozen.to_json()).for_series("KXHIGHNY")  # as a ModelVersion holds it
    assert len(stored.slots) == 3
    for slot, model in zip(slots, stored.slots, strict=True):
        knowledge = slot.evaluation.knowledge
        assert knowledge is not None and slot.evaluation.results
        for result in slot.evaluation.results:
            live = predict(result.case, model, knowledge)
            assert live == predict(result.case, fitting_model(slot.evaluation), knowledge)
            assert live.pooled is not None and live.weather is not None and live.market is not None


def test_what_live_prediction_stores_is_what_predict_gives_the_fitted_model_for_the_same_case(world):
    train()
    open_event(world, date(2025, 3, 1), synced_at=NOW - timedelta(minutes=3))
    [stored] = predict_open_events(now=NOW).predictions
    [case] = live_cases(series=world.series, now=NOW).cases
    [ten] = [s for s in train_series(world.series, now=NOW, use_correction=False, micro=False) if s.decision == TEN]
    assert ten.evaluation.knowledge is not None
    expected = predict(case, fitting_model(ten.evaluation), ten.evaluation.knowledge)
    assert expected.pooled is not None and expected.weather is not None
    probabilities = {b.market.ticker: b.probability for b in stored.brackets.select_related("market")}
    tickers = [m.ticker for m in case.markets]
    assert probabilities == dict(zip(tickers, exact_split(expected.pooled.probabilities), strict=True))
    assert stored.inputs["weather"] == list(expected.weather.probabilities)
    assert expected.pooled.combination is not None
    assert stored.inputs["combination"] == expected.pooled.combination.to_json_dict()


def test_a_model_trained_after_the_time_asked_about_is_not_used(world):
    train()
    earlier = NOW - timedelta(days=1)
    readiness = ModelVersion.objects.readiness(now=earlier)
    assert not readiness.ready
    assert readiness.reason == (
        "model bracket-model v1 was trained at 2025-03-01T17:00Z, after 2025-02-28T17:00Z; "
        "train one with trainmodel --as-of 2025-02-28T17:00Z"
    )
    with pytest.raises(CommandError, match="was trained at 2025-03-01T17:00Z, after 2025-02-28T17:00Z"):
        call_command("predict", "--as-of", "2025-02-28T17:00Z", stdout=StringIO())


def test_with_only_history_a_model_trained_as_of_a_day_predicts_the_events_open_the_next(world):
    out, progress = StringIO(), StringIO()
    call_command("trainmodel", "--as-of", "2025-02-20T15:00Z", "--no-xgboost", stdout=out, stderr=progress)
    assert "promoted: the first model" in out.getvalue()
    for slot in ("18:00 the day before", "10:00 on the day", "14:00 on the day"):
        for stage in ("reading history", "walking forward", "the final fit"):
            assert f"KXHIGHNY {slot}: {stage}" in progress.getvalue()
    call_command("predict", "--as-of", "2025-02-21T15:00Z", stdout=out)
    # 10:00 EST on 21 Feb: that day's event, and the 22nd's (listed at 10:00 the day before); not the 20th's.
    as_of = datetime(2025, 2, 21, 15, tzinfo=UTC)
    predictions = Prediction.objects.filter(as_of=as_of)
    assert sorted(p.event.event_ticker for p in predictions) == ["KXHIGHNY-25FEB21", "KXHIGHNY-25FEB22"]
    for prediction in predictions:
        assert sum(b.probability for b in prediction.brackets.all()) == Decimal(1)
    assert "2 predictions with bracket-model v1." in out.getvalue()


def test_a_model_worse_than_the_market_is_promoted_with_a_loud_warning(world):
    # A market that knew each day's high for certain: no combination with the weather model can beat it.
    Trade.objects.filter(market__result="yes").update(yes_price=Decimal("1.00"))
    Trade.objects.exclude(market__result="yes").update(yes_price=Decimal("0.00"))
    out = StringIO()
    call_command("trainmodel", "--as-of", "2025-03-01T17:00Z", "--no-xgboost", stdout=out, stderr=StringIO())
    version = ModelVersion.objects.get()
    overall = version.validation_scores["overall"]
    assert overall["log_loss_model_minus_market_ci"][0] > 0  # the floor under every probability costs a little
    assert "brier_model_minus_market" in overall and "brier_model_minus_market_ci" in overall
    assert version.status == "promoted" and version.notes.startswith("this model is worse than the market on 168")
    printed = out.getvalue()
    assert "but it does not beat the market (see the warning)" in printed
    assert f"WARNING: {version.notes}" in printed
