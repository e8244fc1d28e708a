"""Live predictions: the promoted model's bracket probabilities for every open event, stored and pushed.

Runs only when the model is ready (a promoted, recent version; see
ModelVersion.objects.readiness), which is also what trading consults. Each run
stores one Prediction per event, as of the run's time, with a BracketProbability
per market (8-decimal Decimals that sum to exactly 1), and the weather model's
own distribution and inputs beside them, so a trade can always be traced back
to what the model saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from django.db import transaction

from kalshiweb.realtime import PredictionPayload, broadcast_on_commit
from markets.models import Event, Series
from prediction.artifact import ArtifactError, BracketModel
from prediction.cases import EventCase
from prediction.dataset import live_cases
from prediction.distributions import Distribution, Normal
from prediction.features import CityKnowledge
from prediction.models import BracketProbability, ModelVersion, Prediction
from prediction.predictor import Forecast, predict
from prediction.services.training import load_artifact

logger = logging.getLogger(__name__)

PROBABILITY_PLACES = Decimal("0.00000001")


@dataclass
class PredictionRun:
    model: ModelVersion | None
    predictions: list[Prediction] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reason: str = ""


@lru_cache(maxsize=4)
def _artifact(pk: int, sha256: str) -> BracketModel:
    """Loaded once per version (the digest in the key makes a changed artifact a new entry)."""
    return load_artifact(ModelVersion.objects.get(pk=pk))


def predict_open_events(*, now: datetime, series: list[Series] | None = None, replay: bool = False) -> PredictionRun:
    """Probabilities for every open event of the model's series, as known ``now``.

    ``replay`` predicts as of a past ``now`` on history (``predict --as-of``):
    see live_cases for what is open then.
    """
    readiness = ModelVersion.objects.readiness(now=now)
    if not readiness.ready or readiness.model is None:
        logger.info("no predictions: %s", readiness.reason)
        return PredictionRun(None, reason=readiness.reason)
    version = readiness.model
    try:
        model = _artifact(version.pk, version.artifact_sha256)
    except ArtifactError as exc:
        logger.error("no predictions: %s", exc)
        return PredictionRun(version, reason=str(exc))
    run = PredictionRun(version, reason=f"predicted with {version}")
    wanted = (
        series if series is not None else Series.objects.filter(ticker__in=list(model.series)).select_related("city")
    )
    for one in wanted:
        _predict_series(one, model, version, now=now, replay=replay, run=run)
    return run


def _predict_series(
    series: Series, model: BracketModel, version: ModelVersion, *, now: datetime, replay: bool, run: PredictionRun
) -> None:
    city = series.city
    if city is None or series.ticker not in model.series:
        run.skipped.append(f"{series.ticker}: not in {version}")
        return
    built = live_cases(series=series, now=now, micro=model.micro, replay=replay)
    run.skipped.extend(built.skipped)
    if not built.cases:
        return
    knowledge = CityKnowledge(built.cases[0].history)  # every high published by now (cases share the moment)
    series_model = model.for_series(series.ticker)
    for case in built.cases:
        forecasts = predict(case, series_model.slot_for(case.target_date, case.decided_at, city.timezone), knowledge)
        if forecasts.pooled is None:
            run.skipped.append(f"{case.event_ticker}: neither a weather forecast nor market prices")
            continue
        event = built.events[case.event_ticker]
        run.predictions.append(store_prediction(version, event, case, forecasts.pooled, forecasts.weather))


def store_prediction(
    version: ModelVersion, event: Event, case: EventCase, pooled: Forecast, weather: Forecast | None
) -> Prediction:
    """One Prediction with its BracketProbability rows, in one transaction, broadcast once committed."""
    markets = {m.ticker: m for m in event.markets.all()}
    distribution = (weather or pooled).distribution
    probabilities = exact_split(pooled.probabilities)
    with transaction.atomic():
        prediction, _ = Prediction.objects.update_or_create(
            model_version=version,
            event=event,
            as_of=case.decided_at,
            defaults={
                "mean_f": distribution.mean() if distribution is not None else None,
                "std_f": _spread(distribution) if distribution is not None else None,
                "running_max_f": case.running_max_f,
                "distribution": _describe(distribution),
                "inputs": {
                    "model": list(pooled.inputs),
                    "combination": pooled.combination.to_json_dict() if pooled.combination else None,
                    "weather": list(weather.probabilities) if weather is not None else None,
                    "forecasts": [f"{f.source}/{f.model} {f.high_f:.1f}°F lead {f.lead_days}" for f in case.forecasts],
                    "ladder_centre_f": case.ladder_centre_f,
                },
            },
        )
        prediction.brackets.all().delete()
        BracketProbability.objects.bulk_create(
            BracketProbability(prediction=prediction, market=markets[m.ticker], probability=p)
            for m, p in zip(case.markets, probabilities, strict=True)
        )
        broadcast_on_commit(_payload(prediction, case, probabilities))
    return prediction


def exact_split(probabilities: tuple[float, ...]) -> list[Decimal]:
    """Probabilities as 8-place Decimals summing to exactly 1: rounding drift goes to the largest."""
    values = [Decimal(repr(max(0.0, p))).quantize(PROBABILITY_PLACES, ROUND_HALF_EVEN) for p in probabilities]
    drift = Decimal(1) - sum(values)
    largest = max(range(len(values)), key=lambda i: values[i])
    values[largest] += drift
    return values


def _spread(distribution: Distribution) -> float:
    """The standard deviation of a Normal; for others, half the central 68 % interval."""
    if isinstance(distribution, Normal):
        return distribution.sigma
    return (distribution.ppf(0.8413) - distribution.ppf(0.1587)) / 2


def _describe(distribution: Distribution | None) -> dict[str, object]:
    if distribution is None:
        return {}
    quantiles = {f"q{round(q * 100):02d}": round(distribution.ppf(q), 3) for q in (0.05, 0.25, 0.5, 0.75, 0.95)}
    return {"kind": type(distribution).__name__, "mean": distribution.mean(), **quantiles}


def _payload(prediction: Prediction, case: EventCase, probabilities: list[Decimal]) -> PredictionPayload:
    return {
        "type": "prediction.update",
        "event": case.event_ticker,
        "as_of": case.decided_at.isoformat(),
        "model": str(prediction.model_version),
        "brackets": {m.ticker: str(p) for m, p in zip(case.markets, probabilities, strict=True)},
    }
