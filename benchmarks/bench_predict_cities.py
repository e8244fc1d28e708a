"""Live predictions for 20 cities and every bracket in one call, as the periodic task makes them.

Each seeded city gets a series, an open event of six quoted brackets, a
forecast and two months of observed highs; the promoted model is a real
fitted one (EMOS on a synthetic history, with its XGBoost correction if it
earns it) copied to every series. Timed: ``predict_open_events`` end to end
(reading cases, forecasting, writing 20 predictions and 120 probabilities),
and the pure forecasting alone. Quick size: 3 cities.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import Figure
from benchmarks.ladders import ladder_markets
from benchmarks.ladders import rungs as ladder_rungs
from markets.models import Event, Series
from prediction.artifact import BracketModel, SeriesModel, SlotModel
from prediction.cases import DecisionTime, EventCase, ForecastInput, KnownHigh, TrainingPair, high_known_from
from prediction.combination import Combination
from prediction.dataset import city_history, live_cases
from prediction.features import CityKnowledge
from prediction.models import ModelVersion, Prediction
from prediction.predictor import predict
from prediction.services.predict import predict_open_events
from prediction.services.training import SLOTS
from prediction.weather_model import WeatherModel
from weather.climate import climate_date_at
from weather.models import City, ForecastSnapshot, Observation

BRACKETS = 6


def fitted_slot(decision: DecisionTime, now: datetime) -> SlotModel:
    """A weather model fitted on three synthetic years ending yesterday: forecast = high + 1 + noise."""
    rng = random.Random(1)
    highs, pairs = [], []
    day = now.date() - timedelta(days=3 * 365)
    while day < now.date():
        high = round(55 + 20 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25) + rng.gauss(0, 5))
        decided = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
        known = high_known_from(day, -300)
        forecast = ForecastInput("open-meteo", "best_match", 0, high + 1 + rng.gauss(0, 1.5), 24, (), decided)
        highs.append(KnownHigh(day, high, "ghcnd", known))
        pairs.append(TrainingPair(day, decided, (forecast,), high, known))
        day += timedelta(days=1)
    model = WeatherModel(CityKnowledge(highs))
    model.fit(pairs, as_of=now)
    patterns, choices = model.freeze()
    return SlotModel(decision, patterns, choices, combination=Combination(0.5, 0.5))


def promote(series: list[Series], now: datetime) -> ModelVersion:
    slots = tuple(fitted_slot(decision, now) for decision in SLOTS)
    artifact = BracketModel({s.ticker: SeriesModel(s.ticker, slots) for s in series}, micro=False)
    body = zlib.compress(artifact.to_json().encode("utf-8"))
    return ModelVersion.objects.create(
        name="bench-model",
        version=1,
        kind=ModelVersion.Kind.BLEND,
        status=ModelVersion.Status.PROMOTED,
        trained_at=now,
        promoted_at=now,
        artifact=body,
        artifact_sha256=hashlib.sha256(body).hexdigest(),
    )


def open_event(city: City, n: int, now: datetime, rng: random.Random) -> Series:
    series = Series.objects.create(ticker=f"KXBENCH{n:02d}", city=city, measure=Series.Measure.HIGH)
    today = climate_date_at(now, city.standard_utc_offset_minutes)
    event = Event.objects.create(
        series=series, event_ticker=f"{series.ticker}-{today:%y%b%d}".upper(), target_date=today
    )
    centre = 40 + n
    ladder = ladder_rungs(centre, BRACKETS)
    bids = {rung: Decimal(rng.randint(5, 40)) / 100 for rung in ladder}
    ladder_markets(
        event,
        ladder,
        open_time=now - timedelta(hours=20),
        yes_bid=lambda rung: bids[rung],
        yes_ask=lambda rung: bids[rung] + Decimal("0.03"),
        synced_at=now - timedelta(minutes=2),
    )
    ForecastSnapshot.objects.create(
        city=city,
        source="open-meteo",
        model="best_match",
        target_date=today,
        available_at=now - timedelta(hours=1),
        high_f=centre + rng.gauss(0, 2),
        n_hours=24,
    )
    Observation.objects.bulk_create(
        Observation(city=city, date=today - timedelta(days=d), source="ghcnd", high_f=centre + rng.gauss(0, 4))
        for d in range(1, 61)
    )
    return series


def run(*, quick: bool) -> list[Figure]:
    now = datetime.now(tz=UTC).replace(microsecond=0)
    rng = random.Random(7)
    cities = list(City.objects.order_by("name"))[: 3 if quick else 20]
    started = time.perf_counter()
    series = [open_event(city, n, now, rng) for n, city in enumerate(cities)]
    version = promote(series, now)
    setup_seconds = time.perf_counter() - started
    try:
        walls, queries = [], []
        for repeat in range(1 if quick else 3):
            moment = now + timedelta(seconds=repeat)
            begun = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                run_ = predict_open_events(now=moment, series=series)
            walls.append(time.perf_counter() - begun)
            queries.append(len(captured.captured_queries))
            if len(run_.predictions) != len(series):
                raise RuntimeError(f"expected {len(series)} predictions, got {len(run_.predictions)}: {run_.skipped}")
        pure = _pure_forecasting(series, version, now)
        n_brackets = sum(p.brackets.count() for p in Prediction.objects.filter(as_of=now))
    finally:
        Prediction.objects.all().delete()
        ModelVersion.objects.filter(pk=version.pk).delete()
        Series.objects.filter(pk__in=[s.pk for s in series]).delete()
        ForecastSnapshot.objects.filter(city__in=cities).delete()
        Observation.objects.filter(city__in=cities).delete()
    n = len(series)
    return [
        Figure("city brackets per call", n * BRACKETS, "probabilities", f"{n} cities, {n_brackets} stored per run"),
        Figure("predict_open_events wall time", min(walls), "s", "best of runs; reads, forecasts, writes"),
        Figure("per city", min(walls) / n * 1000, "ms"),
        Figure("pure forecasting (features + model + brackets)", pure * 1000, "ms", f"all {n} cities"),
        Figure("database queries per call", queries[-1], "queries"),
        Figure("set-up: fit the model and seed the cities", setup_seconds, "s"),
    ]


def case_zone(series: Series) -> str:
    return series.city.timezone if series.city is not None else "UTC"


def _pure_forecasting(series: list[Series], version: ModelVersion, now: datetime) -> float:
    """Seconds to forecast every case once the cases and knowledge are loaded."""
    from prediction.services.training import load_artifact

    model = load_artifact(version)
    loaded: list[tuple[Series, EventCase, CityKnowledge]] = []
    for one in series:
        if one.city is None:
            continue
        knowledge = CityKnowledge(city_history(one.city, series=one, end=now.date()))
        loaded.extend((one, case, knowledge) for case in live_cases(series=one, now=now).cases)
    begun = time.perf_counter()
    for one, case, knowledge in loaded:
        predict(
            case, model.for_series(one.ticker).slot_for(case.target_date, case.decided_at, case_zone(one)), knowledge
        )
    return time.perf_counter() - begun
