"""The one prediction path: a case and a model → the pooled, weather and market forecasts of its brackets.

Live predictions (a frozen SlotModel), the walk-forward evaluation and
training (the fitting WeatherModel and the learned combination) and the
backtest all call :func:`predict`, so the probabilities they produce for the
same case and the same fitted model are the same numbers.

The weather model and the market are combined one way everywhere: the
logarithmic pool of prediction.combination, with weights learned on earlier
events.

Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from prediction.cases import EventCase
from prediction.combination import MARKET_ALONE, WEATHER_ALONE, Combination
from prediction.distributions import Distribution
from prediction.features import CityKnowledge, features_at
from prediction.scoring import normalise_prices
from prediction.weather_model import FittedPattern, WeatherForecast

# The names of the three forecasts predict makes, as evaluation reports and stores them.
MODEL, WEATHER, MARKET = "model", "weather", "market"


@dataclass(frozen=True)
class Forecast:
    probabilities: tuple[float, ...]  # aligned with case.markets
    distribution: Distribution | None = None
    inputs: tuple[str, ...] = ()
    combination: Combination | None = None  # for the model: how weather and market were combined


@dataclass(frozen=True)
class CaseForecasts:
    """What :func:`predict` says of one case; each None when it has nothing to stand on."""

    pooled: Forecast | None  # the model: weather and market pooled
    weather: Forecast | None  # the weather model alone, before any market price
    market: Forecast | None  # the market's prices, normalised

    def by_name(self) -> dict[str, Forecast | None]:
        return {MODEL: self.pooled, WEATHER: self.weather, MARKET: self.market}


class Predictor(Protocol):
    """What ``predict`` needs of a model: a fitted pattern for the features at hand, and the combination."""

    @property
    def combination(self) -> Combination: ...

    def pattern_for(self, available: Sequence[str]) -> FittedPattern | None: ...


def predict(case: EventCase, model: Predictor, knowledge: CityKnowledge) -> CaseForecasts:
    """The forecasts of ``case``'s brackets from what it says was known at its decision time."""
    features = features_at(
        day=case.target_date,
        when=case.decided_at,
        forecasts=case.forecasts,
        knowledge=knowledge,
        ladder_centre=case.ladder_centre_f,
        book=case.book,
    )
    pattern = model.pattern_for(list(features.values))
    weather = None
    if pattern is not None:
        weather = weather_forecast(pattern.forecast(features, case.brackets, running_max=case.running_max_f))
    market = market_forecast(case)
    return CaseForecasts(combine(weather, market, model.combination), weather, market)


def market_forecast(case: EventCase) -> Forecast | None:
    """The market's own view at the decision time (quote mid, else last trade), normalised to sum to 1."""
    prices = [market.price for market in case.markets]
    if all(price is None for price in prices):
        return None
    return Forecast(tuple(normalise_prices(prices)), inputs=("market prices",))


def weather_forecast(forecast: WeatherForecast) -> Forecast:
    inputs = forecast.inputs + (("xgboost",) if forecast.corrected else ())
    return Forecast(forecast.probabilities, forecast.distribution, inputs)


def combine(weather: Forecast | None, market: Forecast | None, combination: Combination) -> Forecast | None:
    """The model's forecast: both combined; either alone when the other is missing."""
    if weather is None:
        return None if market is None else replace(market, combination=MARKET_ALONE)
    if market is None:
        return replace(weather, combination=WEATHER_ALONE)
    pooled = combination.combine(weather.probabilities, market.probabilities)
    return Forecast(pooled, weather.distribution, (*weather.inputs, MARKET), combination=combination)
