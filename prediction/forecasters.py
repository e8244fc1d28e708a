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
from prediction.combination import MARKET_ALONE, Combination, Example, fit_combination
from prediction.features import CityKnowledge
from prediction.predictor import MARKET, WEATHER, Forecast, predict
from prediction.probabilities import bracket_probabilities
from prediction.weather_model import FittedPattern, WeatherModel, ordered

CLIMATOLOGY, POSITIONS = "climatology", "positions"  # the baselines' names, beside predictor's three


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
    """The model as it is fitted: the weather model combined with the market by learned weights.

    ``fit`` refits the weather model and learns the combination from earlier
    cases (see :func:`learned_combination`). It is the fitting counterpart of
    a frozen SlotModel: both are the Predictor that ``predict`` takes, so it
    predicts exactly as a stored model does.
    """

    def __init__(self, weather: WeatherModel) -> None:
        self.weather = weather
        self.combination = MARKET_ALONE

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.weather.fit(pairs, as_of=as_of)
        self.combination = learned_combination(earlier)

    def pattern_for(self, available: Sequence[str]) -> FittedPattern | None:
        return self.weather.fitted_for(ordered(available))

    def predict(self, case: EventCase) -> dict[str, Forecast | None]:
        return predict(case, self, self.weather.knowledge).by_name()


def learned_combination(earlier: Sequence[Scored]) -> Combination:
    """The combination fitted on earlier cases' out-of-sample weather and market forecasts, in decision order."""
    examples = []
    for scored in sorted(earlier, key=lambda s: s.case.decided_at):
        weather, market = scored.forecasts.get(WEATHER), scored.forecasts.get(MARKET)
        won = outcomes(scored.case)
        if weather is not None and market is not None and 1 in won:
            examples.append(Example(weather.probabilities, market.probabilities, won.index(1)))
    return fit_combination(examples)


def standard_forecasters(
    knowledge: CityKnowledge, *, use_correction: bool = True, micro: bool = False
) -> list[Forecaster]:
    """The forecasters an evaluation compares: the model (with the weather model and market) and the baselines."""
    return [
        ModelForecaster(WeatherModel(knowledge, use_correction=use_correction, micro=micro)),
        ClimatologyForecaster(knowledge),
        PositionForecaster(),
    ]
