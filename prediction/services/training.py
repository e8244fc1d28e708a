"""Training the bracket model: walk-forward validation, the final fit, the stored version, promotion.

For every traded series and decision slot the model is first walked forward
over the last VALIDATION days (refitted weekly on earlier data only, exactly
as evaluateforecasts does), which gives its validation scores and the
out-of-sample forecasts the market pool learns its weight from; then it is
fitted on everything known now and frozen into the artifact.

A new version replaces the promoted one only when it forecasts better on the
same events: those decided after the promoted version was trained, where both
are out of sample (the candidate's walk-forward forecasts against the stored
model's). With too few such events yet, the promoted version stays. Either
way, a model that does not beat the market on its validation events is
reported loudly (logged, stored in its notes, printed by trainmodel): the
market is a strong forecaster, and trading on a worse one pays it to be wrong.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time as clock
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from kalshiweb.progress import SILENT, Progress
from markets.models import Series
from prediction.artifact import ArtifactError, BracketModel, SeriesModel, SlotModel
from prediction.cases import DecisionTime, KnownHigh, outcomes
from prediction.dataset import city_history
from prediction.evaluation import CaseResult, refit, summarise
from prediction.forecasters import ModelForecaster
from prediction.models import ModelVersion
from prediction.predictor import MARKET, MODEL, predict
from prediction.scoring import log_loss
from prediction.services.evaluate import SeriesEvaluation, evaluate_series, flat_scores
from weather.climate import climate_date_at

logger = logging.getLogger(__name__)

MODEL_NAME = "bracket-model"
SLOTS = (DecisionTime(time(18), day_before=True), DecisionTime(time(10)), DecisionTime(time(14)))
VALIDATION = timedelta(days=56)
MIN_COMPARISON_EVENTS = 15


class TrainingError(RuntimeError):
    """Nothing could be trained (no series with enough history)."""


@dataclass
class SlotTraining:
    series: Series
    decision: DecisionTime
    evaluation: SeriesEvaluation
    model: SlotModel | None


@dataclass
class TrainingOutcome:
    version: ModelVersion
    promoted: bool
    reason: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    market_warning: str | None = None  # set when the model does not beat the market on its validation events


def traded_series(now: datetime) -> list[Series]:
    """Daily-high series with a city and events in the validation window."""
    since = now.date() - VALIDATION
    return list(
        Series.objects.filter(city__isnull=False, measure=Series.Measure.HIGH, events__target_date__gte=since)
        .select_related("city")
        .distinct()
        .order_by("ticker")
    )


def train_bracket_model(
    *,
    now: datetime,
    series: Sequence[Series] | None = None,
    use_correction: bool = True,
    micro: bool | None = None,
    promote: bool = True,
    progress: Progress = SILENT,
) -> TrainingOutcome:
    """Train, validate and store a new version; promote it if it beats the promoted one.

    ``progress`` gets stages per series and decision slot (see evaluate_series).
    """
    started = clock.perf_counter()
    micro = settings.ENABLE_MICRO_FEATS if micro is None else micro
    trained = [
        slot
        for s in (series if series is not None else traded_series(now))
        for slot in train_series(s, now=now, use_correction=use_correction, micro=micro, progress=progress)
    ]
    models: dict[str, list[SlotModel]] = {}
    for slot in trained:
        if slot.model is not None:
            models.setdefault(slot.series.ticker, []).append(slot.model)
    if not models:
        raise TrainingError("no series had enough history to fit a model on")
    artifact = BracketModel({t: SeriesModel(t, tuple(slots)) for t, slots in models.items()}, micro=micro)
    scores = validation_scores(trained)
    warning = market_warning(scores["overall"])
    version = _store(artifact, trained, scores, now=now, use_correction=use_correction, notes=warning or "")
    if warning is not None:
        logger.warning("%s: %s", version, warning)
    if promote:
        progress.stage("comparing with the promoted model")
        promoted, reason = _promote_if_better(version, trained, now=now)
    else:
        promoted, reason = False, "not asked to promote"
    if warning is not None:
        reason = f"{reason}; but it does not beat the market (see the warning)"
    seconds = clock.perf_counter() - started
    logger.info("trained %s in %.1fs: %s", version, seconds, reason)
    notes = [f"{t.series.ticker} {t.decision.label()}: no model" for t in trained if t.model is None]
    return TrainingOutcome(version, promoted, reason, seconds, notes, warning)


def train_series(
    series: Series, *, now: datetime, use_correction: bool, micro: bool, progress: Progress = SILENT
) -> list[SlotTraining]:
    """Every slot of one series, validated up to yesterday in its city, then fitted on all known ``now``.

    Each slot's evaluation keeps its ModelForecaster as that final fit left
    it: the fitting counterpart of the slot's frozen model.
    """
    if series.city is None:
        raise TrainingError(f"{series.ticker} has no city")
    end = climate_date_at(now, series.city.standard_utc_offset_minutes) - timedelta(days=1)
    # Every slot ends on the same day, so the city's history is loaded once for all of them.
    history = city_history(series.city, series=series, end=end)
    return [
        _train_slot(
            series,
            decision,
            end=end,
            history=history,
            now=now,
            use_correction=use_correction,
            micro=micro,
            progress=progress,
        )
        for decision in SLOTS
    ]


def _train_slot(
    series: Series,
    decision: DecisionTime,
    *,
    end: date,
    history: Sequence[KnownHigh],
    now: datetime,
    use_correction: bool,
    micro: bool,
    progress: Progress,
) -> SlotTraining:
    evaluation = evaluate_series(
        series,
        start=end - VALIDATION + timedelta(days=1),
        end=end,
        decision=decision,
        use_correction=use_correction,
        micro=micro,
        history=history,
        progress=progress,
    )
    progress.stage(f"{series.ticker} {decision.label()}: the final fit")
    refit(evaluation.forecasters, evaluation.all_results, pairs=evaluation.pairs, as_of=now)
    return SlotTraining(series, decision, evaluation, _frozen(evaluation, decision))


def _frozen(evaluation: SeriesEvaluation, decision: DecisionTime) -> SlotModel | None:
    """The evaluation's model as it was last fitted, frozen for storing (None if it fitted no pattern)."""
    model = next((f for f in evaluation.forecasters if isinstance(f, ModelForecaster)), None)
    if model is None:
        return None
    patterns, choices = model.weather.freeze()
    return SlotModel(decision, patterns, choices, combination=model.combination) if patterns else None


def _store(
    artifact: BracketModel,
    trained: list[SlotTraining],
    scores: dict[str, Any],
    *,
    now: datetime,
    use_correction: bool,
    notes: str,
) -> ModelVersion:
    body = zlib.compress(artifact.to_json().encode("utf-8"), level=9)
    latest = ModelVersion.objects.filter(name=MODEL_NAME).aggregate(latest=Max("version"))["latest"] or 0
    features = sorted(
        {name for m in artifact.series.values() for s in m.slots for p in s.patterns for name in p.features}
    )
    starts = [p.day for t in trained for p in t.evaluation.pairs]
    return ModelVersion.objects.create(
        name=MODEL_NAME,
        version=latest + 1,
        kind=ModelVersion.Kind.BLEND,
        trained_at=now,
        training_start=min(starts) if starts else None,
        training_end=max(starts) if starts else None,
        features=features,
        params={
            "slots": [s.label() for s in SLOTS],
            "validation_days": VALIDATION.days,
            "xgboost_correction": use_correction,
            "micro_features": artifact.micro,
            "series": sorted(artifact.series),
            "artifact_encoding": "zlib(json)",
        },
        validation_scores=scores,
        artifact=body,
        artifact_sha256=hashlib.sha256(body).hexdigest(),
        notes=notes,
    )


def load_artifact(version: ModelVersion) -> BracketModel:
    """The stored model, checked against its digest."""
    body = bytes(version.artifact or b"")
    if hashlib.sha256(body).hexdigest() != version.artifact_sha256:
        raise ArtifactError(f"{version}: the artifact does not match its SHA-256")
    try:
        return BracketModel.from_json(zlib.decompress(body))
    except zlib.error as exc:
        raise ArtifactError(f"{version}: the artifact is not zlib-compressed JSON ({exc})") from exc


def validation_scores(trained: Sequence[SlotTraining]) -> dict[str, Any]:
    """Brier and log loss of model and market on the validation events, overall and per series and slot."""
    scores: dict[str, Any] = {"overall": _scores([r for t in trained for r in t.evaluation.results])}
    for t in trained:
        scores[f"{t.series.ticker} {t.decision.label()}"] = _scores(t.evaluation.results)
    return scores


SCORE_KEYS = ("n_events", "brier_model", "brier_market", "log_loss_model", "log_loss_market")
MARKET_DIFFERENCES = ("brier_model_minus_market", "log_loss_model_minus_market")


def _scores(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Model and market scores, and model - market with its bootstrap 95% interval (``*_ci``)."""
    flat = flat_scores(summarise(results, names=(MODEL, MARKET)))
    wanted = (*SCORE_KEYS, *MARKET_DIFFERENCES, *(f"{key}_ci" for key in MARKET_DIFFERENCES))
    return {key: flat[key] for key in wanted if key in flat}


def market_warning(scores: Mapping[str, Any]) -> str | None:
    """What to shout when the model does not beat the market on these validation scores; None when it does.

    Per score (Brier, log loss), the model is worse when the 95% interval of
    model - market lies above zero, better when below, else no better. One
    worse score makes the model worse; any score not better, no better.
    """
    verdicts: list[str] = []
    figures: list[str] = []
    for score, label in (("brier", "Brier"), ("log_loss", "log loss")):
        difference, interval = scores.get(f"{score}_model_minus_market"), scores.get(f"{score}_model_minus_market_ci")
        if difference is None or interval is None:
            continue
        low, high = interval
        verdicts.append("worse" if low > 0 else "better" if high < 0 else "no better")
        figures.append(
            f"{label} {scores[f'{score}_model']:.4f} vs {scores[f'{score}_market']:.4f} "
            f"(model - market {difference:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}])"
        )
    if all(verdict == "better" for verdict in verdicts):
        return None
    where = f"on {scores['n_events']} validation events: {'; '.join(figures)}."
    if "worse" in verdicts:
        return f"this model is worse than the market {where} Trading on it pays the market to be wrong."
    return f"this model is no better than the market {where} Trading on it pays fees for no edge."


def _promote_if_better(version: ModelVersion, trained: Sequence[SlotTraining], *, now: datetime) -> tuple[bool, str]:
    current = ModelVersion.objects.promoted().filter(name=MODEL_NAME).first()
    if current is None:
        n_events = version.validation_scores["overall"]["n_events"]
        if n_events < MIN_COMPARISON_EVENTS:
            return False, f"only {n_events} validation events; {MIN_COMPARISON_EVENTS} are needed to promote"
        _promote(version, None, now=now)
        return True, f"promoted: the first model, validated on {n_events} events"
    comparison = compare_with(current, trained)
    if comparison is None:
        # A promoted version that cannot be read predicts nothing (made by an older kalshiweb, say):
        # any readable candidate is better than that.
        _promote(version, current, now=now)
        return True, f"promoted: {current}'s artifact cannot be read, so it can neither predict nor be compared"
    n, candidate, incumbent = comparison
    if n < MIN_COMPARISON_EVENTS:
        return False, f"{current} stays: only {n} events since it was trained; {MIN_COMPARISON_EVENTS} are needed"
    summary = f"log loss {candidate:.4f} against {incumbent:.4f} on {n} events since {current} was trained"
    if candidate < incumbent:
        _promote(version, current, now=now)
        return True, f"promoted: {summary}"
    return False, f"{current} stays: {summary}"


def compare_with(current: ModelVersion, trained: Sequence[SlotTraining]) -> tuple[int, float, float] | None:
    """(events, candidate log loss, promoted log loss) on the events decided after ``current`` was trained."""
    try:
        incumbent = load_artifact(current)
    except ArtifactError:
        logger.exception("cannot read %s to compare with", current)
        return None
    ours: list[list[float]] = []
    theirs: list[list[float]] = []
    truth: list[list[int]] = []
    for t in trained:
        model = incumbent.series.get(t.series.ticker)
        knowledge = t.evaluation.knowledge
        if model is None or knowledge is None or t.series.city is None:
            continue
        for result in t.evaluation.results:
            candidate = result.forecasts.get(MODEL)
            if result.case.outcome is None or candidate is None or current.trained_at is None:
                continue
            if result.case.decided_at <= current.trained_at:
                continue
            slot = model.slot_for(result.case.target_date, result.case.decided_at, t.series.city.timezone)
            old = predict(result.case, slot, knowledge).pooled
            if old is not None:
                ours.append(list(candidate.probabilities))
                theirs.append(list(old.probabilities))
                truth.append(outcomes(result.case))
    if not truth:
        return 0, math.nan, math.nan
    return len(truth), log_loss(ours, truth), log_loss(theirs, truth)


def _promote(version: ModelVersion, current: ModelVersion | None, *, now: datetime) -> None:
    with transaction.atomic():
        if current is not None:
            ModelVersion.objects.filter(pk=current.pk).update(status=ModelVersion.Status.RETIRED)
        version.status = ModelVersion.Status.PROMOTED
        version.promoted_at = now
        version.save(update_fields=["status", "promoted_at"])
