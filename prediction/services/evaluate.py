"""Evaluation of the forecasters on imported history, per series and decision time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings

from kalshiweb.progress import SILENT, Progress
from markets.models import Series
from prediction.cases import DecisionTime, KnownHigh, TrainingPair
from prediction.dataset import build_cases, city_history, training_pairs
from prediction.evaluation import REFIT_EVERY, CaseResult, summarise, walk_forward
from prediction.features import CityKnowledge
from prediction.forecasters import CLIMATOLOGY, POSITIONS, Forecaster, standard_forecasters
from prediction.predictor import MARKET, MODEL, WEATHER

NAMES = (MODEL, WEATHER, MARKET, CLIMATOLOGY, POSITIONS)
TRAINING_HISTORY = timedelta(days=3 * 365)  # training days before the first evaluated day
# Events before the first evaluated day are forecast too, unscored, so the pool of weather
# and market starts the evaluated period having learned its weight on earlier cases.
WARM_UP = timedelta(days=90)


@dataclass
class SeriesEvaluation:
    series: str
    # The evaluated days; each result's forecasts by name: MODEL (pooled), WEATHER and MARKET from
    # prediction.predictor.predict, and the CLIMATOLOGY and POSITIONS baselines.
    results: list[CaseResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # What training a live model continues from: every result (warm-up too), the forecasters
    # as the walk left them, the city's knowledge and the training days.
    all_results: list[CaseResult] = field(default_factory=list)
    forecasters: list[Forecaster] = field(default_factory=list)
    knowledge: CityKnowledge | None = None
    pairs: list[TrainingPair] = field(default_factory=list)

    @property
    def training_days(self) -> int:
        return len(self.pairs)

    @property
    def training_days_with_forecasts(self) -> int:
        return sum(1 for p in self.pairs if p.forecasts)


def evaluate_series(
    series: Series,
    *,
    start: date,
    end: date,
    decision: DecisionTime,
    use_correction: bool = True,
    micro: bool | None = None,
    history: Sequence[KnownHigh] | None = None,
    progress: Progress = SILENT,
) -> SeriesEvaluation:
    """Walk forward over one series' events in [start, end] at one decision time.

    ``micro`` (default: the ENABLE_MICRO_FEATS setting) adds order-book
    features to the XGBoost correction. ``history`` is ``city_history(city,
    series=series, end=end)`` when the caller has it already; it must end at
    ``end``, or later highs would leak into the evaluation. ``progress``
    gets a stage for reading the series and one for the walk, a step per case.
    """
    micro = settings.ENABLE_MICRO_FEATS if micro is None else micro
    evaluation = SeriesEvaluation(series.ticker)
    name = f"{series.ticker} {decision.label()}"
    progress.stage(f"{name}: reading history")
    city = series.city
    if city is None:
        evaluation.skipped.append(f"{series.ticker}: no city")
        return evaluation
    if history is None:
        history = city_history(city, series=series, end=end)  # loaded once: the knowledge, pairs and cases share it
    knowledge = CityKnowledge(history)
    pairs = training_pairs(
        city=city,
        decision=decision,
        start=start - WARM_UP - TRAINING_HISTORY,
        end=end,
        series=series,
        require_forecasts=False,
        micro=micro,
        history=history,
    )
    built = build_cases(series=series, start=start - WARM_UP, end=end, decision=decision, micro=micro, history=history)
    forecasters = standard_forecasters(knowledge, use_correction=use_correction, micro=micro)
    progress.stage(f"{name}: walking forward", total=len(built.cases))
    results = walk_forward(built.cases, pairs=pairs, forecasters=forecasters, progress=progress)
    evaluation.results = [r for r in results if r.case.target_date >= start]
    evaluation.skipped.extend(built.skipped)
    evaluation.all_results, evaluation.forecasters = results, forecasters
    evaluation.knowledge, evaluation.pairs = knowledge, pairs
    return evaluation


def evaluation_report(
    evaluations: Sequence[SeriesEvaluation], *, decision: DecisionTime, start: date, end: date
) -> dict[str, Any]:
    """The JSON contract of evaluateforecasts: overall, per series, and the parameters.

    Each section compares model, market and climatology on the events all three
    forecast. A series without enough observed history for a climatology (the
    shared data hold only a week of Austin's and Denver's highs) is compared
    with the market alone, its climatology keys are null and a note says why.
    Beside it, ``weather_model_market`` compares the weather model alone, the
    market and their combination (the model) on the events all three forecast;
    the contract's ``brier_weather`` and ``log_loss_weather`` come from it.
    """
    everything = [r for e in evaluations for r in e.results]
    report = _section(everything)
    report["model_and_market_every_series"] = flat_scores(summarise(everything, names=(MODEL, MARKET)))
    report["per_series"] = {}
    for evaluation in evaluations:
        section = _section(evaluation.results)
        section["all_forecasters"] = flat_scores(summarise(evaluation.results, names=NAMES))
        section["model_market_positions"] = flat_scores(summarise(evaluation.results, names=(MODEL, MARKET, POSITIONS)))
        section["training_days"] = evaluation.training_days
        section["training_days_with_forecasts"] = evaluation.training_days_with_forecasts
        section["skipped"] = evaluation.skipped
        report["per_series"][evaluation.series] = section
    report["params"] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "decision_time": decision.clock.strftime("%H:%M"),
        "day_before": decision.day_before,
        "series": [e.series for e in evaluations],
        "refit_every_days": REFIT_EVERY.days,
        "warm_up_days": WARM_UP.days,
        "compared_on": "events every compared forecaster could forecast, with a known winner",
    }
    return report


def _section(results: Sequence[CaseResult]) -> dict[str, Any]:
    if any(r.forecasts.get(CLIMATOLOGY) for r in results):
        section = flat_scores(summarise(results, names=(MODEL, MARKET, CLIMATOLOGY)))
    else:
        section = flat_scores(summarise(results, names=(MODEL, MARKET)))
        for key in ("brier_climatology", "log_loss_climatology", "brier_model_minus_climatology"):
            section[key] = None
        section["climatology_note"] = "no climatology: too few observed highs of this city before its events"
    combined = flat_scores(summarise(results, names=(MODEL, WEATHER, MARKET)))
    section["weather_model_market"] = combined
    # The weather model alone against the baselines it must beat, each on the events both forecast.
    section["weather_positions"] = flat_scores(summarise(results, names=(WEATHER, POSITIONS)))
    section["weather_climatology"] = flat_scores(summarise(results, names=(WEATHER, CLIMATOLOGY)))
    for key in ("brier_weather", "log_loss_weather", "crps_weather", "mae_weather"):
        section[key] = combined.get(key)
    return section


def flat_scores(summary: dict[str, Any]) -> dict[str, Any]:
    """Scores as plain numbers under the contract's keys, intervals beside them as *_ci."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict) and "value" in value and "low" in value:
            flat[key] = value["value"]
            flat[f"{key}_ci"] = [value["low"], value["high"]]
        else:
            flat[key] = value
    return flat
