"""XGBoost correction of the statistical model: it learns what EMOS gets wrong.

The target is the residual (observed high minus the EMOS mean) from the EMOS
mean itself, every feature (missing ones as NaN, which XGBoost routes
natively), the ensemble spread, the season and the lead time, and, when
ENABLE_MICRO_FEATS is on, order-book features. The weather model uses it only
when it lowers CRPS on a held-out, later part of the training data.
Deterministic: one thread and a fixed seed, so evaluations reproduce exactly.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xgboost

# The native API: the scikit-learn wrapper would pull in scikit-learn for nothing.
PARAMS = {
    "objective": "reg:squarederror",
    "max_depth": 3,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 5.0,
    "lambda": 1.0,
    "tree_method": "hist",
    "nthread": 1,
    "seed": 0,
}
ROUNDS = 200
MIN_ROWS = 60


class ResidualModelError(ValueError):
    """Too little data to learn a correction, or a stored model that cannot be read."""


@dataclass(frozen=True)
class ResidualModel:
    feature_names: tuple[str, ...]
    booster: bytes  # XGBoost's own JSON model format
    n_train: int

    @classmethod
    def fit(
        cls, rows: Sequence[Sequence[float | None]], residuals: Sequence[float], *, names: Sequence[str]
    ) -> ResidualModel:
        if len(rows) < MIN_ROWS:
            raise ResidualModelError(f"a residual model needs {MIN_ROWS} rows, got {len(rows)}")
        data = xgboost.DMatrix(_matrix(rows, len(names)), label=np.asarray(residuals, dtype=float), missing=math.nan)
        booster = xgboost.train(PARAMS, data, num_boost_round=ROUNDS)
        return cls(tuple(names), bytes(booster.save_raw(raw_format="json")), len(rows))

    def to_json_dict(self) -> dict[str, object]:
        return {
            "feature_names": list(self.feature_names),
            "booster": base64.b64encode(self.booster).decode("ascii"),
            "n_train": self.n_train,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> ResidualModel:
        try:
            names = data["feature_names"]
            if not isinstance(names, list):
                raise TypeError("feature_names is not a list")
            booster = base64.b64decode(str(data["booster"]), validate=True)
            return cls(tuple(str(n) for n in names), booster, int(str(data["n_train"])))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ResidualModelError(f"not a stored residual model: {exc}") from exc

    def predict(self, rows: Sequence[Sequence[float | None]]) -> list[float]:
        matrix = xgboost.DMatrix(_matrix(rows, len(self.feature_names)), missing=math.nan)
        return [float(v) for v in self._loaded.predict(matrix)]

    @cached_property
    def _loaded(self) -> xgboost.Booster:
        booster = xgboost.Booster()
        booster.load_model(bytearray(self.booster))
        return booster


def _matrix(rows: Sequence[Sequence[float | None]], width: int) -> np.ndarray:
    matrix = np.full((len(rows), width), np.nan, dtype=float)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ResidualModelError(f"row {i} has {len(row)} features, expected {width}")
        for j, value in enumerate(row):
            if value is not None and math.isfinite(value):
                matrix[i, j] = value
    return matrix
