"""EMOS: non-homogeneous Gaussian regression fitted by minimum mean CRPS (Gneiting et al. 2005).

    high ~ N(mu, sigma²),   mu = a + b·x,   sigma² = c + d·s²

x are forecast features of the day's high in °F (for example several sources'
bias-corrected forecasts), s is a spread: the ensemble's (or the sources')
standard deviation when there is one, else |lead| in days, which also grows
the error. c ≥ sigma_floor² and d ≥ 0 are bounds of the fit, so sigma never
falls below the floor.

The fit is deterministic: it starts from ordinary least squares (a, b) and a
regression of the squared OLS residuals on s² (c, d), then minimises the mean
closed-form CRPS with L-BFGS-B and its analytic gradient.

Missing values: the fit uses complete rows only (every feature, the observed
high and the spread finite). At prediction a missing feature is replaced by the
mean of the row's available features: the features are forecasts of the same
high, so the others' consensus stands in for the missing source and the
coefficients keep their sum (and with it the calibration of the mean). A
missing spread takes the training rows' root-mean-square spread. Sigma is not
widened for a missing source.

Degenerate inputs: fewer than max(MIN_ROWS, p + 3) complete rows, or a feature
that is constant over them (it cannot be told from the intercept), raise
EmosError. A spread that is constant over the complete rows (one lead time,
say) cannot be told from c: the model is then fitted with d = 0 and
``uses_spread`` false.

Pure: no Django, no clock, no randomness.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from prediction.distributions import SIGMA_FLOOR_F, Normal

FloatArray = npt.NDArray[np.float64]

MIN_ROWS = 10
ARTIFACT_KIND = "emos-ngr"
ARTIFACT_VERSION = 1
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


class EmosError(ValueError):
    """Training data the model cannot be fitted on, or a stored model that cannot be read."""


@dataclass(frozen=True)
class EmosModel:
    """Fitted parameters; ``to_json``/``from_json`` store them as a model artifact."""

    feature_names: tuple[str, ...]
    intercept: float  # a, °F
    coefficients: tuple[float, ...]  # b, one per feature
    variance_intercept: float  # c, °F²
    variance_slope: float  # d, °F² per unit of spread²
    uses_spread: bool
    fallback_spread: float  # used when a prediction's spread is missing
    sigma_floor: float
    n_train: int
    train_crps: float  # mean CRPS on the training rows, °F

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        object.__setattr__(self, "coefficients", tuple(float(b) for b in self.coefficients))
        if len(self.feature_names) != len(self.coefficients) or not self.feature_names:
            raise EmosError("an EMOS model needs one coefficient per feature, and at least one feature")
        if len(set(self.feature_names)) != len(self.feature_names):
            raise EmosError(f"feature names must be unique, got {list(self.feature_names)}")
        numbers = (self.intercept, *self.coefficients, self.variance_intercept, self.variance_slope)
        if not all(math.isfinite(v) for v in (*numbers, self.fallback_spread, self.sigma_floor)):
            raise EmosError("EMOS parameters must be finite")
        if self.variance_intercept < 0 or self.variance_slope < 0 or self.sigma_floor <= 0:
            raise EmosError("EMOS needs c ≥ 0, d ≥ 0 and a positive sigma floor")

    def sigma(self, spread: float | None = None) -> float:
        """sqrt(c + d·s²), at least the floor; a missing spread uses ``fallback_spread``."""
        s = self.fallback_spread if spread is None or not math.isfinite(spread) else abs(spread)
        slope = self.variance_slope if self.uses_spread else 0.0
        return max(self.sigma_floor, math.sqrt(self.variance_intercept + slope * s * s))

    def mu(self, features: Mapping[str, float | None] | Sequence[float | None]) -> float:
        """a + b·x with each missing feature (absent, None or NaN) replaced by the row's available mean."""
        values = self._vector(features)
        available = [v for v in values if v is not None]
        if not available:
            raise EmosError(f"no feature available to predict from (needs some of {list(self.feature_names)})")
        stand_in = math.fsum(available) / len(available)
        filled = [stand_in if v is None else v for v in values]
        return self.intercept + math.fsum(b * x for b, x in zip(self.coefficients, filled, strict=True))

    def predict(
        self, features: Mapping[str, float | None] | Sequence[float | None], spread: float | None = None
    ) -> Normal:
        """The predictive N(mu, sigma²) for one day, features by name (a mapping) or in order (a sequence)."""
        return Normal(self.mu(features), self.sigma(spread))

    def predict_many(
        self, features: Sequence[Sequence[float | None]], spread: Sequence[float | None] | None = None
    ) -> list[Normal]:
        spreads: Sequence[float | None] = [None] * len(features) if spread is None else spread
        return [self.predict(row, s) for row, s in zip(features, spreads, strict=True)]

    def _vector(self, features: Mapping[str, float | None] | Sequence[float | None]) -> list[float | None]:
        if isinstance(features, Mapping):
            unknown = set(features) - set(self.feature_names)
            if unknown:
                raise EmosError(f"unknown features {sorted(unknown)}; the model knows {list(self.feature_names)}")
            raw = [features.get(name) for name in self.feature_names]
        else:
            if len(features) != len(self.feature_names):
                raise EmosError(f"expected {len(self.feature_names)} features, got {len(features)}")
            raw = list(features)
        return [None if v is None or not math.isfinite(v) else float(v) for v in raw]

    def to_json_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": ARTIFACT_KIND, "version": ARTIFACT_VERSION}
        data.update(asdict(self))
        data["feature_names"] = list(self.feature_names)
        data["coefficients"] = list(self.coefficients)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), sort_keys=True)

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> EmosModel:
        if data.get("kind") != ARTIFACT_KIND or data.get("version") != ARTIFACT_VERSION:
            raise EmosError(f"not an {ARTIFACT_KIND} v{ARTIFACT_VERSION} artifact: {data.get('kind')!r}")
        try:
            return cls(
                feature_names=tuple(str(n) for n in _list(data["feature_names"])),
                intercept=_number(data["intercept"]),
                coefficients=tuple(_number(b) for b in _list(data["coefficients"])),
                variance_intercept=_number(data["variance_intercept"]),
                variance_slope=_number(data["variance_slope"]),
                uses_spread=bool(data["uses_spread"]),
                fallback_spread=_number(data["fallback_spread"]),
                sigma_floor=_number(data["sigma_floor"]),
                n_train=int(_number(data["n_train"])),
                train_crps=_number(data["train_crps"]),
            )
        except KeyError as exc:
            raise EmosError(f"EMOS artifact lacks {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> EmosModel:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise EmosError("an EMOS artifact is a JSON object")
        return cls.from_json_dict(data)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise EmosError(f"expected a list in the EMOS artifact, got {value!r}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EmosError(f"expected a number in the EMOS artifact, got {value!r}")
    return float(value)


def fit_emos(
    features: Sequence[Sequence[float]] | FloatArray,
    observed: Sequence[float] | FloatArray,
    spread: Sequence[float] | FloatArray | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    sigma_floor: float = SIGMA_FLOOR_F,
    min_rows: int = MIN_ROWS,
) -> EmosModel:
    """Fit mu = a + b·x, sigma² = c + d·s² by minimum mean CRPS on the complete rows.

    ``features`` is n-by-p (NaN for missing), ``observed`` the n observed highs,
    ``spread`` n non-negative spreads or None (then sigma is constant).
    """
    x, y, s = _arrays(features, observed, spread)
    names = tuple(feature_names) if feature_names is not None else tuple(f"x{j}" for j in range(x.shape[1]))
    if len(names) != x.shape[1]:
        raise EmosError(f"{len(names)} feature names for {x.shape[1]} features")
    complete = np.all(np.isfinite(x), axis=1) & np.isfinite(y) & np.isfinite(s)
    x, y, s = x[complete], y[complete], s[complete]
    _check_rows(x, names, min_rows)
    uses_spread = spread is not None and float(np.ptp(s * s)) > 0.0
    theta, scale = _solve(x, y, s, uses_spread=uses_spread, floor=sigma_floor)
    p = x.shape[1]
    centre = x.mean(axis=0)
    b = theta[1 : p + 1]
    return EmosModel(
        feature_names=names,
        intercept=float(theta[0] - b @ centre),
        coefficients=tuple(float(v) for v in b),
        variance_intercept=float(theta[p + 1]),
        variance_slope=float(theta[p + 2] / scale) if uses_spread else 0.0,
        uses_spread=uses_spread,
        fallback_spread=float(np.sqrt(np.mean(s * s))) if spread is not None else 0.0,
        sigma_floor=float(sigma_floor),
        n_train=int(y.size),
        train_crps=float(_objective(theta, x - centre, y, s * s / scale)[0]),
    )


def _arrays(
    features: Sequence[Sequence[float]] | FloatArray,
    observed: Sequence[float] | FloatArray,
    spread: Sequence[float] | FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = np.asarray(features, dtype=float)
    y = np.asarray(observed, dtype=float)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.size:
        raise EmosError(f"features must be n-by-p and observed n long, got {x.shape} and {y.shape}")
    s = np.zeros_like(y) if spread is None else np.asarray(spread, dtype=float)
    if s.shape != y.shape:
        raise EmosError(f"spread must be n long, got {s.shape}")
    if np.any(s[np.isfinite(s)] < 0):
        raise EmosError("spread must be ≥ 0")
    return x, y, s


def _check_rows(x: FloatArray, names: tuple[str, ...], min_rows: int) -> None:
    needed = max(min_rows, x.shape[1] + 3)
    if x.shape[0] < needed:
        raise EmosError(f"EMOS needs at least {needed} complete rows, got {x.shape[0]}")
    for name, column in zip(names, x.T, strict=True):
        if float(np.ptp(column)) == 0.0:
            raise EmosError(
                f"feature {name!r} is constant ({column[0]}) over the {x.shape[0]} complete rows: "
                "it cannot be told apart from the intercept"
            )


def _solve(x: FloatArray, y: FloatArray, s: FloatArray, *, uses_spread: bool, floor: float) -> tuple[FloatArray, float]:
    """Minimise mean CRPS over θ = (a', b, c, d') with centred x and u = s²/mean(s²) (for conditioning)."""
    xc = x - x.mean(axis=0)
    s2 = s * s
    scale = float(s2.mean()) if uses_spread else 1.0
    u = s2 / scale if uses_spread else np.zeros_like(y)
    start = _start(xc, y, u, uses_spread=uses_spread, floor=floor)
    p = x.shape[1]
    bounds = [(None, None)] * (p + 1) + [(floor * floor, None), (0.0, None if uses_spread else 0.0)]
    result = optimize.minimize(
        _objective,
        start,
        args=(xc, y, u),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-9},
    )
    theta = np.asarray(result.x, dtype=float)
    best, first = float(_objective(theta, xc, y, u)[0]), float(_objective(start, xc, y, u)[0])
    if not np.all(np.isfinite(theta)) or not math.isfinite(best) or best > first:
        raise EmosError(f"the CRPS minimisation failed: {result.message}")
    return theta, scale


def _start(xc: FloatArray, y: FloatArray, u: FloatArray, *, uses_spread: bool, floor: float) -> FloatArray:
    """OLS for (a', b); the squared OLS residuals regressed on u for (c, d'), clipped into the bounds."""
    design = np.column_stack([np.ones_like(y), xc])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    squared = (y - design @ beta) ** 2
    if uses_spread:
        c, d = np.linalg.lstsq(np.column_stack([np.ones_like(u), u]), squared, rcond=None)[0]
    else:
        c, d = float(squared.mean()), 0.0
    return np.concatenate([beta, [max(float(c), floor * floor), max(float(d), 0.0)]])


def mean_crps(mu: FloatArray, sigma: FloatArray, y: FloatArray) -> float:
    """Mean closed-form CRPS of N(mu, sigma²) against y, elementwise over arrays."""
    z = (y - mu) / sigma
    cdf, pdf = _cdf_pdf(z)
    return float(np.mean(sigma * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - _INV_SQRT_PI)))


def _cdf_pdf(z: FloatArray) -> tuple[FloatArray, FloatArray]:
    return special.ndtr(z), np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _objective(theta: FloatArray, xc: FloatArray, y: FloatArray, u: FloatArray) -> tuple[float, FloatArray]:
    """Mean closed-form CRPS and its gradient.

    CRPS = s[z(2Φ(z) - 1) + 2φ(z) - 1/√π] with z = (y - mu)/s; dCRPS/dmu = 1 - 2Φ(z),
    dCRPS/ds = 2φ(z) - 1/√π, and ds/dc = 1/(2s), ds/dd = u/(2s) for s² = c + d·u.
    """
    p = xc.shape[1]
    mu = theta[0] + xc @ theta[1 : p + 1]
    sigma = np.sqrt(theta[p + 1] + theta[p + 2] * u)
    z = (y - mu) / sigma
    cdf, pdf = _cdf_pdf(z)
    crps = sigma * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - _INV_SQRT_PI)
    d_mu = 1.0 - 2.0 * cdf
    d_var = (2.0 * pdf - _INV_SQRT_PI) / (2.0 * sigma)
    n = y.size
    gradient = np.concatenate([[d_mu.mean()], xc.T @ d_mu / n, [d_var.mean(), (d_var * u).mean()]])
    return float(crps.mean()), gradient
