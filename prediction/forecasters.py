"""Forecasters of an event's brackets: the model, and the baselines it is measured against.

Each forecaster is refitted by the walk-forward evaluator (or the trainer) on
what was known at a time, then predicts cases one at a time. ``predict`` sees
the case and what the forecasters before it in the list predicted for it,
which is how the pooled model combines the weather model with the market.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from prediction.cases import EventCase, TrainingPair, outcomes
from prediction.climatology import bracket_position_baseline
from prediction.distributions import Distribution
from prediction.features import CityKnowledge
from prediction.probabilities import bracket_probabilities
from prediction.scoring import log_loss, normalise_prices
from prediction.weather_model import WeatherForecast, WeatherModel

MODEL, WEATHER, MARKET, CLIMATOLOGY, POSITIONS = "model", "weather", "market", "climatology", "positions"
POOL_WEIGHTS = tuple(i / 20 for i in range(21))
MIN_POOL_CASES = 20
DEFAULT_WEATHER_WEIGHT = 0.5


@dataclass(frozen=True)
class Forecast:
    probabilities: tuple[float, ...]  # aligned with case.markets
    distribution: Distribution | None = None
    inputs: tuple[str, ...] = ()
    market_weight: float | None = None  # the pool's weight on the market price, for the pooled model


@dataclass(frozen=True)
class Scored:
    """An earlier case, its forecasts, and (once known) which bracket won."""

    case: EventCase
    forecasts: Mapping[str, Forecast | None]


class Forecaster(ABC):
    name: str

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:  # noqa: B027 - baselines learn nothing
        """Learn from the training days and earlier cases whose outcomes were known by ``as_of``."""

    @abstractmethod
    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None: ...


class MarketForecaster(Forecaster):
    """The market's own view at the decision time (quote mid, else last trade), normalised to sum to 1."""

    name = MARKET

    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None:
        prices = [market.price for market in case.markets]
        if all(price is None for price in prices):
            return None
        return Forecast(tuple(normalise_prices(prices)), inputs=("market prices",))


class ClimatologyForecaster(Forecaster):
    """The day-of-year distribution of the city's highs, from the years before."""

    name = CLIMATOLOGY

    def __init__(self, knowledge: CityKnowledge) -> None:
        self.knowledge = knowledge

    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None:
        normal = self.knowledge.climatology_normal(case.target_date, when=case.decided_at)
        if normal is None:
            return None
        return Forecast(tuple(bracket_probabilities(normal, case.brackets)), normal, ("climatology",))


class PositionForecaster(Forecaster):
    """How often each bracket position (lower tail ... upper tail) won in earlier events."""

    name = POSITIONS

    def __init__(self) -> None:
        self.past: list[list[int]] = []

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.past = [outcomes(scored.case) for scored in earlier if scored.case.outcome is not None]

    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None:
        if not self.past:
            return None
        return Forecast(tuple(bracket_position_baseline(self.past, len(case.markets))), inputs=("positions",))


def weather_forecast(forecast: WeatherForecast | None) -> Forecast | None:
    if forecast is None:
        return None
    inputs = forecast.inputs + (("xgboost",) if forecast.corrected else ())
    return Forecast(forecast.probabilities, forecast.distribution, inputs)


class WeatherForecaster(Forecaster):
    """The weather model alone: forecasts, climatology and recent highs, no market price."""

    name = WEATHER

    def __init__(self, model: WeatherModel) -> None:
        self.model = model

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        self.model.fit(pairs, as_of=as_of)

    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None:
        forecast = self.model.predict(
            day=case.target_date,
            when=case.decided_at,
            forecasts=case.forecasts,
            brackets=case.brackets,
            running_max=case.running_max_f,
            ladder_centre=case.ladder_centre_f,
            book=case.book,
        )
        return weather_forecast(forecast)


class PooledForecaster(Forecaster):
    """The model: the weather model's probabilities pooled with the market's, p = w·weather + (1-w)·market.

    w is chosen on earlier cases (their out-of-sample forecasts) by log loss;
    with fewer than MIN_POOL_CASES of them it is 0.5. Without a market price
    the weather model stands alone, and the reverse.
    """

    name = MODEL

    def __init__(self) -> None:
        self.weight = DEFAULT_WEATHER_WEIGHT

    def fit(self, *, as_of: datetime, pairs: Sequence[TrainingPair], earlier: Sequence[Scored]) -> None:
        both: list[tuple[Forecast, Forecast]] = []
        truth: list[list[int]] = []
        for scored in earlier:
            weather, market = scored.forecasts.get(WEATHER), scored.forecasts.get(MARKET)
            if scored.case.outcome is not None and weather is not None and market is not None:
                both.append((weather, market))
                truth.append(outcomes(scored.case))
        if len(both) < MIN_POOL_CASES:
            self.weight = DEFAULT_WEATHER_WEIGHT
            return
        # min() keeps the first of equal losses: ties go to the lower weather weight.
        self.weight = min(POOL_WEIGHTS, key=lambda w: _pooled_log_loss(w, both, truth))

    def predict(self, case: EventCase, others: Mapping[str, Forecast | None]) -> Forecast | None:
        return pool(others.get(WEATHER), others.get(MARKET), market_weight=1 - self.weight)


def pool(weather: Forecast | None, market: Forecast | None, *, market_weight: float) -> Forecast | None:
    """The linear pool (1 - w)·weather + w·market; either alone when the other is missing."""
    if weather is None:
        return None if market is None else replace(market, market_weight=1.0)
    if market is None:
        return replace(weather, market_weight=0.0)
    return _linear_pool(weather, market, market_weight=market_weight)


def _linear_pool(weather: Forecast, market: Forecast, *, market_weight: float) -> Forecast:
    pooled = tuple(
        (1 - market_weight) * w + market_weight * m
        for w, m in zip(weather.probabilities, market.probabilities, strict=True)
    )
    return Forecast(pooled, weather.distribution, (*weather.inputs, MARKET), market_weight=market_weight)


def _pooled_log_loss(weight: float, both: Sequence[tuple[Forecast, Forecast]], truth: Sequence[list[int]]) -> float:
    """Log loss of the pool that gives the weather model ``weight``, pooled exactly as predict pools."""
    pooled = [_linear_pool(weather, market, market_weight=1 - weight).probabilities for weather, market in both]
    return log_loss(pooled, truth)


def standard_forecasters(
    knowledge: CityKnowledge, *, use_correction: bool = True, micro: bool = False
) -> list[Forecaster]:
    """The forecasters an evaluation compares, in the order they must run (the pool comes last)."""
    return [
        MarketForecaster(),
        ClimatologyForecaster(knowledge),
        PositionForecaster(),
        WeatherForecaster(WeatherModel(knowledge, use_correction=use_correction, micro=micro)),
        PooledForecaster(),
    ]
