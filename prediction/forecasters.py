"""Forecasters of an event's brackets: the model, and the baselines it is measured against.

Each forecaster is refitted by the walk-forward evaluator (or the trainer) on
what was known at a time, then predicts cases one at a time, giving its
forecasts by name. The model's three (pooled, weather alone, market) come
from prediction.predictor.predict, the path live predictions take too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from prediction.cases import EventCase, TrainingPair, outcomes
from prediction.climatology import bracket_position_baseline
from prediction.features import CityKnowledge
from prediction.predictor import MARKET, WEATHER, Forecast, linear_pool, predict
from prediction.probabilities import bracket_probabilities
from prediction.scoring import log_loss
from prediction.weather_model import FittedPattern, WeatherModel, ordered

CLIMATOLOGY, POSITIONS = "climatology", "positions"  # the baselines' names, beside predictor's three
MARKET_WEIGHTS = tuple(i / 20 for i in range(21))
MIN_POOL_CASES = 20
DEFAULT_MARKET_WEIGHT = 0.5


@dataclass(frozen=True)
class Scored:
    """An earlier case, its forecasts, and (once known) which bracket won."""

    case: EventCase
    forecasts: Mapping[str, Forecast | None]


class Forecaster(ABC):
    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:  # noqa: B027 - baselines learn nothing
        """Learn from the training days and earlier cases whose outcomes were known by ``as_of``."""

    @abstractmethod
    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        """This forecaster's forecasts of ``case``, by name."""


class ClimatologyForecaster(Forecaster):
    """The day-of-year distribution of the city's highs, from the years before."""

    def __init__(self, knowledge: CityKnowledge) -> None:
        self.knowledge = knowledge

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        normal = self.knowledge.climatology_normal(case.target_date, when=case.decided_at)
        if normal is None:
            return {CLIMATOLOGY: None}
        return {CLIMATOLOGY: Forecast(tuple(bracket_probabilities(normal, case.brackets)), normal, ("climatology",))}


class PositionForecaster(Forecaster):
    """How often each bracket position (lower tail ... upper tail) won in earlier events."""

    def __init__(self) -> None:
        self.past: list[list[int]] = []

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.past = [outcomes(scored.case) for scored in earlier if scored.case.outcome is not None]

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        if not self.past:
            return {POSITIONS: None}
        return {
            POSITIONS: Forecast(tuple(bracket_position_baseline(self.past, len(case.markets))), inputs=("positions",))
        }


class ModelForecaster(Forecaster):
    """The model as it is fitted: the weather model pooled with the market at a learned weight.

    ``fit`` refits the weather model and learns the pool's weight on the
    market from earlier cases (see :func:`learned_market_weight`). It is the
    fitting counterpart of a frozen SlotModel: both are the Predictor that
    ``predict`` takes, so it predicts exactly as a stored model does.
    """

    def __init__(self, weather: WeatherModel) -> None:
        self.weather = weather
        self.market_weight = DEFAULT_MARKET_WEIGHT

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.weather.fit(pairs, as_of=as_of)
        self.market_weight = learned_market_weight(earlier)

    def pattern_for(self, available: Sequence[str]) -> FittedPattern | None:
        return self.weather.fitted_for(ordered(available))

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        return predict(case, self, self.weather.knowledge).by_name()


def learned_market_weight(earlier: Sequence[Scored]) -> float:
    """The pool's weight on the market with the lowest log loss on earlier cases' out-of-sample forecasts.

    With fewer than MIN_POOL_CASES cases that had both forecasts and an
    outcome, DEFAULT_MARKET_WEIGHT.
    """
    both: list[tuple[Forecast, Forecast]] = []
    truth: list[list[int]] = []
    for scored in earlier:
        weather, market = scored.forecasts.get(WEATHER), scored.forecasts.get(MARKET)
        if scored.case.outcome is not None and weather is not None and market is not None:
            both.append((weather, market))
            truth.append(outcomes(scored.case))
    if len(both) < MIN_POOL_CASES:
        return DEFAULT_MARKET_WEIGHT
    # min() keeps the first of equal losses: from the top down, ties go to the market (the price
    # is trusted unless the model has been better).
    return min(reversed(MARKET_WEIGHTS), key=lambda w: _pooled_log_loss(w, both, truth))


def _pooled_log_loss(
    market_weight: float, both: Sequence[tuple[Forecast, Forecast]], truth: Sequence[list[int]]
) -> float:
    """Log loss of the pool at ``market_weight``, pooled exactly as predict pools."""
    pooled = [linear_pool(weather, market, market_weight=market_weight).probabilities for weather, market in both]
    return log_loss(pooled, truth)


def standard_forecasters(
    knowledge: CityKnowledge, *, use_correction: bool = True, micro: bool = False
) -> list[Forecaster]:
    """The forecasters an evaluation compares: the model (with the weather model and market) and the baselines."""
    return [
        ModelForecaster(WeatherModel(knowledge, use_correction=use_correction, micro=micro)),
        ClimatologyForecaster(knowledge),
        PositionForecaster(),
    ]
