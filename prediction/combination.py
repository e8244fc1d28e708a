"""How the weather model's bracket probabilities and the market's price are combined into the model's.

A logarithmic pool with learned weights: for each bracket i of an event,

    p_i ∝ weather_i ** a · market_i ** b

normalised over the event. It is logistic stacking on log-probabilities: ``a``
and ``b`` are fitted by minimum log loss on earlier events only, so the data
decide how far the weather signal may move the price. (a, b) = (0, 1) is the
market alone, (1, 0) the weather model alone, and weights above 1 sharpen
what a source says where it has been too timid.

The market is a strong forecaster, so the fit is pulled (a little) toward the
market alone, and with too few earlier events the combination is the market:
the weather model has to earn its weight. Earning it means a likelihood-ratio
test: the fitted weights replace the market alone only when they lower the
earlier events' total log loss by more than chance would with two free
weights (2·gain > χ²(2 df) at 1 %). On the shared 2024-25 data, pools that
passed a weaker test (a 1-3 nat gain) still lost to the market out of sample.

Pure: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

FLOOR = 1e-4  # no bracket is impossible to either source: log(0) would end every pool
MIN_EVENTS = 20
MAX_EVENTS = 120  # the latest events only: skill drifts with the season and the sources
PENALTY = 0.01  # pull toward the market alone, per unit of weight squared
BOUNDS = (0.0, 3.0)
SIGNIFICANT_GAIN = 9.21 / 2  # nats of total log loss: χ²(2 df) at 1 %, halved (the statistic is twice the gain)


@dataclass(frozen=True)
class Combination:
    """The weights of the logarithmic pool on the weather model and on the market."""

    weather: float = 0.0
    market: float = 1.0

    def combine(self, weather: Sequence[float], market: Sequence[float]) -> tuple[float, ...]:
        """The pooled probabilities of an event's brackets (aligned lists, each summing to 1)."""
        logs = self.weather * _logs(weather) + self.market * _logs(market)
        weights = np.exp(logs - logs.max())
        return tuple(float(p) for p in weights / weights.sum())

    def describe(self) -> str:
        return f"weather {self.weather:.2f}, market {self.market:.2f}"

    def to_json_dict(self) -> dict[str, float]:
        return {"weather": self.weather, "market": self.market}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Combination:
        return cls(float(data["weather"]), float(data["market"]))


MARKET_ALONE = Combination(0.0, 1.0)
WEATHER_ALONE = Combination(1.0, 0.0)


@dataclass(frozen=True)
class Example:
    """An earlier event: both forecasts of its brackets, and which bracket won."""

    weather: Sequence[float]
    market: Sequence[float]
    winner: int


def fit_combination(examples: Sequence[Example]) -> Combination:
    """The weights with the lowest log loss on the latest MAX_EVENTS examples; the market alone below MIN_EVENTS."""
    recent = list(examples)[-MAX_EVENTS:]
    if len(recent) < MIN_EVENTS:
        return MARKET_ALONE
    weather = [_logs(e.weather) for e in recent]
    market = [_logs(e.market) for e in recent]
    winners = [e.winner for e in recent]

    def total(a: float, b: float) -> float:
        """The examples' total log loss under weights (a, b)."""
        summed = 0.0
        for w, m, k in zip(weather, market, winners, strict=True):
            logs = a * w + b * m
            top = logs.max()
            summed += top + math.log(float(np.exp(logs - top).sum())) - float(logs[k])
        return summed

    def loss(x: NDArray[np.float64]) -> float:
        a, b = float(x[0]), float(x[1])
        return total(a, b) / len(winners) + PENALTY * (a**2 + (b - 1) ** 2)

    found = minimize(loss, np.array([0.0, 1.0]), bounds=[BOUNDS, BOUNDS], method="L-BFGS-B")
    fitted = Combination(round(float(found.x[0]), 4), round(float(found.x[1]), 4))
    if total(MARKET_ALONE.weather, MARKET_ALONE.market) - total(fitted.weather, fitted.market) <= SIGNIFICANT_GAIN:
        return MARKET_ALONE
    return fitted


def _logs(probabilities: Sequence[float]) -> NDArray[np.float64]:
    clipped: NDArray[np.float64] = np.clip(np.asarray(probabilities, dtype=np.float64), FLOOR, 1.0)
    return np.log(clipped)
