"""Walk-forward evaluation: every forecaster refitted on the past only, scored on the same events.

Cases are taken in decision order. Before a case, forecasters are refitted
(every REFIT_EVERY of decision time) on training days and earlier cases whose
outcomes were published by then; nothing later is ever visible, so deleting
every row after a day leaves that day's numbers unchanged (a test checks it).
Scores compare forecasters only on the cases every one of them could forecast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kalshiweb.progress import SILENT, Progress
from prediction.cases import EventCase, TrainingPair, high_known_from, outcomes
from prediction.forecasters import Forecaster, Scored
from prediction.predictor import MARKET, MODEL, Forecast
from prediction.scoring import (
    Score,
    absolute_error,
    bootstrap_difference,
    bootstrap_score,
    brier_losses,
    expected_calibration_error,
    log_losses,
    reliability_table,
)

REFIT_EVERY = timedelta(days=7)
SEED = 20250228


@dataclass
class CaseResult:
    case: EventCase
    forecasts: dict[str, Forecast | None] = field(default_factory=dict)


def walk_forward(
    cases: Sequence[EventCase],
    *,
    pairs: Sequence[TrainingPair],
    forecasters: Sequence[Forecaster],
    refit_every: timedelta = REFIT_EVERY,
    progress: Progress = SILENT,
) -> list[CaseResult]:
    """Predict every case with forecasters trained only on what was known at its decision time.

    ``progress`` advances by one per case (the caller names the stage).
    """
    results: list[CaseResult] = []
    last_fit = None
    for case in sorted(cases, key=lambda c: (c.decided_at, c.event_ticker)):
        if last_fit is None or case.decided_at - last_fit >= refit_every:
            refit(forecasters, results, pairs=pairs, as_of=case.decided_at)
            last_fit = case.decided_at
        result = CaseResult(case)
        for forecaster in forecasters:
            result.forecasts.update(forecaster.predict(case))
        results.append(result)
        progress.advance()
    return results


def refit(
    forecasters: Sequence[Forecaster], results: Sequence[CaseResult], *, pairs: Sequence[TrainingPair], as_of: datetime
) -> None:
    """Fit every forecaster on the training days and the results whose outcomes were published by ``as_of``."""
    earlier = [
        Scored(r.case, r.forecasts)
        for r in results
        if high_known_from(r.case.target_date, r.case.standard_offset_minutes) <= as_of
    ]
    for forecaster in forecasters:
        forecaster.fit(as_of=as_of, pairs=pairs, earlier=earlier)


def comparable(results: Sequence[CaseResult], names: Sequence[str]) -> list[CaseResult]:
    """Cases with an outcome that every named forecaster forecast."""
    return [r for r in results if r.case.outcome is not None and all(r.forecasts.get(n) for n in names)]


def summarise(results: Sequence[CaseResult], *, names: Sequence[str], seed: int = SEED) -> dict[str, Any]:
    """Brier, log loss (with intervals), CRPS and MAE of the high, and reliability per forecaster.

    Paired differences (with intervals) are of the first of ``names`` against each of the others.
    """
    common = comparable(results, names)
    summary: dict[str, Any] = {"n_events": len(common), "n_markets": sum(len(r.case.markets) for r in common)}
    if not common:
        return summary
    truth = [outcomes(r.case) for r in common]
    losses: dict[str, tuple[list[list[float]], list[list[float]]]] = {}
    for name in names:
        probabilities = [list(_forecast(r, name).probabilities) for r in common]
        brier, log = brier_losses(probabilities, truth), log_losses(probabilities, truth)
        losses[name] = (brier, log)
        summary[f"brier_{name}"] = _score(bootstrap_score(brier, seed=seed))
        summary[f"log_loss_{name}"] = _score(bootstrap_score(log, seed=seed))
        summary[f"reliability_{name}"] = [asdict(b) for b in reliability_table(probabilities, truth)]
        summary[f"ece_{name}"] = expected_calibration_error(probabilities, truth)
        _continuous(summary, name, common, seed=seed)
    reference = names[0]  # the paired differences are the first forecaster's against each other
    for other in names[1:]:
        summary[f"brier_{reference}_minus_{other}"] = _score(
            bootstrap_difference(losses[reference][0], losses[other][0], seed=seed)
        )
        summary[f"log_loss_{reference}_minus_{other}"] = _score(
            bootstrap_difference(losses[reference][1], losses[other][1], seed=seed)
        )
    if MODEL in names:
        summary["inputs"] = dict(Counter("+".join(_forecast(r, MODEL).inputs) for r in common))
        combinations = [c for r in common if (c := _forecast(r, MODEL).combination) is not None]
        for source in ("weather", "market"):
            weights = [getattr(c, source) for c in combinations]
            summary[f"mean_{source}_weight"] = round(sum(weights) / len(weights), 3) if weights else None
    summary["market_priced_events"] = sum(1 for r in common if r.forecasts.get(MARKET))
    return summary


def _forecast(result: CaseResult, name: str) -> Forecast:
    forecast = result.forecasts.get(name)
    if forecast is None:
        raise KeyError(f"{result.case.event_ticker} has no {name} forecast")
    return forecast


def _continuous(summary: dict[str, Any], name: str, common: Sequence[CaseResult], *, seed: int) -> None:
    """CRPS and MAE of the high for forecasters with a distribution (on days with a known high)."""
    pairs = [
        (_forecast(r, name).distribution, r.case.outcome.high_f)
        for r in common
        if r.case.outcome is not None and r.case.outcome.high_f is not None and _forecast(r, name).distribution
    ]
    if not pairs:
        return
    crps = [[distribution.crps(high)] for distribution, high in pairs if distribution is not None]
    errors = [[absolute_error(distribution, high)] for distribution, high in pairs if distribution is not None]
    summary[f"crps_{name}"] = _score(bootstrap_score(crps, seed=seed))
    summary[f"mae_{name}"] = _score(bootstrap_score(errors, seed=seed))


def _score(score: Score) -> dict[str, float | int]:
    return {
        "value": round(score.value, 6),
        "low": round(score.low, 6),
        "high": round(score.high, 6),
        "n_events": score.n_events,
        "n_markets": score.n_markets,
    }
