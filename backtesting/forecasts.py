"""The model's probabilities at every decision of a backtest: walk-forward, point in time, and cached.

A backtest must not trade on a model that saw the future, so the probabilities
come from the same walk-forward evaluateforecasts runs (prediction.services.
evaluate): at each decision the model is refitted on what was known then and
predicts through the one prediction path (prediction.predictor.predict).

That costs minutes, and a backtest is run again and again with other
strategies and parameters, so the result is stored per series, decision time
and date range, under a fingerprint of the code and the data it was computed
from: new imports or a changed model make a new entry rather than serve a
stale one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q

from backtesting.engine import label
from backtesting.models import ForecastSet
from kalshiweb.progress import SILENT, Progress
from markets.models import Event, Market, Series, Trade
from prediction.cases import DecisionTime
from prediction.predictor import MARKET, MODEL, WEATHER
from prediction.services.evaluate import evaluate_series
from weather.models import ForecastSnapshot, Observation, RunningExtreme

logger = logging.getLogger(__name__)

ModelForecasts = dict[tuple[str, str], dict[str, float]]  # (event ticker, decision label) → P(YES) by market
# The code whose change changes the forecasts: the prediction package and what it reads the data through.
_NOT_MODEL = {"tests", "management", "migrations"}  # code in the package that cannot change a forecast
_CODE = ("prediction", "weather/services/forecasts.py", "weather/services/truth.py", "weather/climate.py",
         "markets/brackets.py", "markets/outcomes.py")  # fmt: skip


@dataclass(frozen=True)
class ForecastsReport:
    forecasts: ModelForecasts
    computed: list[str]  # "KXHIGHNY 10:00" for each set computed now (the others came from the store)
    seconds: float


def model_forecasts(
    *,
    series: Sequence[Series],
    start: date,
    end: date,
    decision_times: Sequence[DecisionTime],
    progress: Progress = SILENT,
) -> ForecastsReport:
    """The walk-forward model's P(YES) for every market at every decision of [start, end], by ticker order."""
    started = time.perf_counter()
    fingerprint = data_fingerprint()
    forecasts: ModelForecasts = {}
    computed = []
    for one in series:
        for decision in decision_times:
            stored = ForecastSet.objects.filter(
                series=one.ticker, decision=label(decision), start=start, end=end, fingerprint=fingerprint
            ).first()
            if stored is None:
                stored = _compute(one, decision, start=start, end=end, fingerprint=fingerprint, progress=progress)
                computed.append(f"{one.ticker} {decision.label()}")
            forecasts.update(_read(stored))
    return ForecastsReport(forecasts, computed, time.perf_counter() - started)


def _compute(
    series: Series, decision: DecisionTime, *, start: date, end: date, fingerprint: str, progress: Progress
) -> ForecastSet:
    began = time.perf_counter()
    evaluation = evaluate_series(series, start=start, end=end, decision=decision, progress=progress)
    payload: dict[str, Any] = {}
    for result in evaluation.results:
        pooled = result.forecasts.get(MODEL)
        if pooled is None:
            continue
        case = result.case
        weather, market = result.forecasts.get(WEATHER), result.forecasts.get(MARKET)
        payload[case.event_ticker] = {
            "decided_at": case.decided_at.isoformat(),
            "tickers": [m.ticker for m in case.markets],
            "model": list(pooled.probabilities),
            "weather": list(weather.probabilities) if weather is not None else None,
            "market": list(market.probabilities) if market is not None else None,
            "combination": pooled.combination.to_json_dict() if pooled.combination else None,
        }
    # Sets computed from older code or data are never read again.
    ForecastSet.objects.filter(series=series.ticker, decision=label(decision), start=start, end=end).exclude(
        fingerprint=fingerprint
    ).delete()
    stored, _ = ForecastSet.objects.update_or_create(
        series=series.ticker,
        decision=label(decision),
        start=start,
        end=end,
        fingerprint=fingerprint,
        defaults={"payload": payload, "n_events": len(payload), "seconds": time.perf_counter() - began},
    )
    logger.debug("walk-forward forecasts for %s %s: %d events", series.ticker, decision.label(), len(payload))
    return stored


def _read(stored: ForecastSet) -> ModelForecasts:
    """The stored probabilities, keyed by event and decision, then by market ticker."""
    return {
        (event_ticker, stored.decision): dict(zip(entry["tickers"], entry["model"], strict=True))
        for event_ticker, entry in stored.payload.items()
    }


def data_fingerprint() -> str:
    """A digest of the code and the data the forecasts depend on: any import or code change alters it."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for name in _CODE:
        path = root / name
        files = sorted(p for p in path.rglob("*.py") if not _NOT_MODEL & set(p.parts)) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    digest.update(f"micro={settings.ENABLE_MICRO_FEATS}".encode())
    for counts in (
        ForecastSnapshot.objects.aggregate(n=Count("pk"), last=Max("pk")),
        Observation.objects.aggregate(n=Count("pk"), last=Max("pk")),
        RunningExtreme.objects.aggregate(n=Count("pk"), last=Max("pk")),
        Event.objects.aggregate(n=Count("pk"), last=Max("pk")),
        Market.objects.aggregate(n=Count("pk"), settled=Count("pk", filter=~Q(result="")), last=Max("pk")),
        {"trades": Trade.objects.count()},
    ):
        digest.update(repr(sorted(counts.items())).encode())
    return digest.hexdigest()
