"""Predictive distributions of a climate day's high (°F, continuous).

The CLI reports whole degrees; these distributions describe the continuous
value that gets rounded, and `prediction.probabilities` turns them into bracket
probabilities with half-degree edges. Every distribution answers:

- ``cdf(x)`` = P(X ≤ x), ``sf(x)`` = P(X > x),
- ``probability_between(lower, upper)`` = P(lower ≤ X < upper), half-open like
  the bracket edges (it matters for an undressed ensemble, whose members are
  point masses that may sit exactly on an edge),
- ``ppf(q)``/``quantile(q)``, ``median()``, ``mean()``,
- ``crps(y)``, the continuous ranked probability score against an observed y.

Constructors validate (finite parameters, sigma > 0) and raise
`DistributionError`. Constructors that build from data (`Normal.from_sample`,
`Normal.with_floor`, and the models in emos/climatology) apply `SIGMA_FLOOR_F`.

Pure: no Django, no clock, no randomness.
"""

from __future__ import annotations

import bisect
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import integrate, optimize, special

# A day's high is never known to better than about 1 °F: the CLI rounds to whole
# degrees (a uniform ±0.5 on its own), real-time ASOS values drift by 1-2 °F
# through °F→°C→°F conversions, and the station is not the forecast grid cell.
# Normals narrower than this are the classic overconfident anti-pattern.
SIGMA_FLOOR_F = 1.0

# CRPS by numerical integration (mixtures, generic truncation) is accurate to
# this absolute tolerance in °F; the tails beyond the 1e-10 and 1 - 1e-10
# quantiles are left out, which costs far less than that.
CRPS_INTEGRATION_TOLERANCE = 1e-6
_TAIL_QUANTILE = 1e-10

FloatArray = npt.NDArray[np.float64]

_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = math.log(_SQRT_2PI)


class DistributionError(ValueError):
    """Parameters that do not describe a distribution (NaN, infinite, sigma ≤ 0, ...)."""


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise DistributionError(f"{name} must be finite, got {value}")
    return value


def _positive(name: str, value: float) -> float:
    value = _finite(name, value)
    if value <= 0.0:
        raise DistributionError(f"{name} must be > 0, got {value}")
    return value


def _check_q(q: float) -> float:
    if not 0.0 <= q <= 1.0:
        raise DistributionError(f"a quantile level must be in [0, 1], got {q}")
    return float(q)


def _log_sf(z: float) -> float:
    """log P(Z > z) for a standard normal, accurate far into both tails."""
    return float(special.log_ndtr(-z))


def _normal_crps(z: float, sigma: float) -> float:
    # Gneiting et al. (2005): CRPS(N(mu, s²), y) = s [z(2Φ(z) - 1) + 2φ(z) - 1/√π], z = (y - mu)/s.
    cdf = float(special.ndtr(z))
    pdf = math.exp(-0.5 * z * z) / _SQRT_2PI
    return sigma * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - _INV_SQRT_PI)


class Distribution(ABC):
    """A predictive distribution of the day's high."""

    @abstractmethod
    def cdf(self, x: float) -> float:
        """P(X ≤ x)."""

    @abstractmethod
    def probability_between(self, lower: float, upper: float) -> float:
        """P(lower ≤ X < upper); 0 when upper ≤ lower. Bounds may be ±inf."""

    @abstractmethod
    def ppf(self, q: float) -> float:
        """The q-quantile: the smallest x with cdf(x) ≥ q."""

    @abstractmethod
    def mean(self) -> float:
        """E[X]."""

    def sf(self, x: float) -> float:
        """P(X > x)."""
        return 1.0 - self.cdf(x)

    def quantile(self, q: float) -> float:
        return self.ppf(q)

    def median(self) -> float:
        return self.ppf(0.5)

    def crps(self, y: float) -> float:
        """CRPS(F, y) = ∫ (F(x) - 1{x ≥ y})² dx, by numerical integration (see CRPS_INTEGRATION_TOLERANCE)."""
        return _crps_by_integration(self, _finite("observed value", y))


def _crps_by_integration(dist: Distribution, y: float) -> float:
    """∫_{-∞}^{y} F² dx + ∫_{y}^{∞} (1 - F)² dx, split at y where the integrand jumps."""
    low = min(y, dist.ppf(_TAIL_QUANTILE))
    high = max(y, dist.ppf(1.0 - _TAIL_QUANTILE))
    tol = CRPS_INTEGRATION_TOLERANCE / 10.0  # two pieces, and headroom for quad's own estimate

    def below(x: float) -> float:
        return dist.cdf(x) ** 2

    def above(x: float) -> float:
        return dist.sf(x) ** 2

    left = float(integrate.quad(below, low, y, epsabs=tol, epsrel=tol, limit=200)[0]) if y > low else 0.0
    right = float(integrate.quad(above, y, high, epsabs=tol, epsrel=tol, limit=200)[0]) if high > y else 0.0
    return left + right


def _solve_cdf(dist: Distribution, q: float, low: float, high: float) -> float:
    """x in [low, high] with cdf(x) = q, given cdf(low) ≤ q ≤ cdf(high) up to rounding."""
    if dist.cdf(low) >= q or high - low <= 1e-12 * max(1.0, abs(low)):
        return low
    if dist.cdf(high) <= q:
        return high
    return float(optimize.brentq(lambda x: dist.cdf(x) - q, low, high, xtol=1e-10, rtol=1e-12))


@dataclass(frozen=True)
class Normal(Distribution):
    """N(mu, sigma²). Raises DistributionError unless mu is finite and sigma finite and > 0."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _finite("mu", self.mu))
        object.__setattr__(self, "sigma", _positive("sigma", self.sigma))

    @classmethod
    def with_floor(cls, mu: float, sigma: float, *, floor: float = SIGMA_FLOOR_F) -> Normal:
        """N(mu, max(sigma, floor)²): for a sigma estimated from data, which can come out too small."""
        return cls(mu, max(_finite("sigma", sigma), _positive("floor", floor)))

    @classmethod
    def from_sample(cls, values: Sequence[float], *, floor: float = SIGMA_FLOOR_F) -> Normal:
        """Mean and sample standard deviation (ddof=1) of at least two finite values, sigma floored."""
        data = np.asarray(values, dtype=float)
        if data.size < 2 or not np.all(np.isfinite(data)):
            raise DistributionError(f"need at least two finite values to fit a normal, got {data.size}")
        return cls.with_floor(float(data.mean()), float(data.std(ddof=1)), floor=floor)

    def _z(self, x: float) -> float:
        return (x - self.mu) / self.sigma

    def cdf(self, x: float) -> float:
        return float(special.ndtr(self._z(x)))

    def sf(self, x: float) -> float:
        return float(special.ndtr(-self._z(x)))

    def probability_between(self, lower: float, upper: float) -> float:
        return _normal_interval(self._z(lower), self._z(upper), log_mass=0.0)

    def ppf(self, q: float) -> float:
        return self.mu + self.sigma * float(special.ndtri(_check_q(q)))

    def mean(self) -> float:
        return self.mu

    def logpdf(self, x: float) -> float:
        z = self._z(x)
        return -0.5 * z * z - math.log(self.sigma) - _LOG_SQRT_2PI

    def crps(self, y: float) -> float:
        """Closed form of Gneiting et al. (2005)."""
        return _normal_crps(self._z(_finite("observed value", y)), self.sigma)


def _normal_interval(z_low: float, z_high: float, *, log_mass: float) -> float:
    """P(z_low ≤ Z < z_high) / exp(log_mass) for a standard normal Z, stable in the far tails.

    Written as Q(z_low)/M · (1 - Q(z_high)/Q(z_low)) with Q the survival function
    and logs throughout, so a truncation far above the mean (Q underflowing to 0)
    still gives probabilities that sum to 1.
    """
    if z_high <= z_low:
        return 0.0
    if z_high < 0.0:
        # Both edges below the mean: P = Φ(z_high) - Φ(z_low) has no cancellation there.
        return float(special.ndtr(z_high) - special.ndtr(z_low)) / math.exp(log_mass)
    log_low, log_high = _log_sf(z_low), _log_sf(z_high)
    return math.exp(log_low - log_mass) * -math.expm1(log_high - log_low)


@dataclass(frozen=True)
class TruncatedNormal(Distribution):
    """N(mu, sigma²) conditioned on X ≥ lower (the running maximum already observed)."""

    mu: float
    sigma: float
    lower: float
    _log_mass: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _finite("mu", self.mu))
        object.__setattr__(self, "sigma", _positive("sigma", self.sigma))
        object.__setattr__(self, "lower", _finite("lower", self.lower))
        # log P(X ≥ lower) under the parent normal: finite however far in the tail.
        object.__setattr__(self, "_log_mass", _log_sf(self._alpha))

    @property
    def _alpha(self) -> float:
        return (self.lower - self.mu) / self.sigma

    def _z(self, x: float) -> float:
        return (x - self.mu) / self.sigma

    def cdf(self, x: float) -> float:
        return self.probability_between(self.lower, x) if x >= self.lower else 0.0

    def sf(self, x: float) -> float:
        return self.probability_between(x, math.inf) if x >= self.lower else 1.0

    def probability_between(self, lower: float, upper: float) -> float:
        start = max(lower, self.lower)
        if upper <= start:
            return 0.0
        return min(1.0, _normal_interval(self._z(start), self._z(upper), log_mass=self._log_mass))

    def ppf(self, q: float) -> float:
        """Inverse in log space: Q(z) = (1 - q)·Q(alpha), so it works however far the truncation is in the tail."""
        q = _check_q(q)
        if q == 0.0:
            return self.lower
        if q == 1.0:
            return math.inf
        log_target = math.log1p(-q) + self._log_mass
        return max(self.lower, self.mu - self.sigma * float(special.ndtri_exp(log_target)))

    def mean(self) -> float:
        """mu + sigma·λ(alpha), λ the inverse Mills ratio φ(alpha)/Q(alpha), taken in logs."""
        alpha = self._alpha
        log_pdf = -0.5 * alpha * alpha - _LOG_SQRT_2PI
        return self.mu + self.sigma * math.exp(log_pdf - self._log_mass)

    def logpdf(self, x: float) -> float:
        if x < self.lower:
            return -math.inf
        z = self._z(x)
        return -0.5 * z * z - math.log(self.sigma) - _LOG_SQRT_2PI - self._log_mass


@dataclass(frozen=True)
class Ensemble(Distribution):
    """Ensemble members, as point masses or dressed with a normal kernel of width ``kernel_sigma``.

    Undressed, the distribution is the members' empirical distribution and
    `crps` is the *fair* CRPS (Ferro 2014), unbiased for the CRPS of the
    distribution the members are drawn from:
    mean|x_i - y| - Σ_i Σ_j |x_i - x_j| / (2 m (m - 1)). With one member it is |x - y|.
    Dressed, it is an equal-weight mixture of N(x_i, kernel_sigma²) and `crps`
    is that mixture's exact CRPS (Grimit et al. 2006).
    """

    members: tuple[float, ...]
    kernel_sigma: float | None = None

    def __post_init__(self) -> None:
        if len(self.members) == 0:
            raise DistributionError("an ensemble needs at least one member")
        members = tuple(sorted(_finite("ensemble member", m) for m in self.members))
        object.__setattr__(self, "members", members)
        if self.kernel_sigma is not None:
            object.__setattr__(self, "kernel_sigma", _positive("kernel_sigma", self.kernel_sigma))

    @property
    def _array(self) -> FloatArray:
        return np.asarray(self.members, dtype=float)

    def cdf(self, x: float) -> float:
        if self.kernel_sigma is None:
            return bisect.bisect_right(self.members, x) / len(self.members)
        return float(np.mean(special.ndtr((x - self._array) / self.kernel_sigma)))

    def probability_between(self, lower: float, upper: float) -> float:
        if upper <= lower:
            return 0.0
        if self.kernel_sigma is None:
            count = bisect.bisect_left(self.members, upper) - bisect.bisect_left(self.members, lower)
            return count / len(self.members)
        h = self.kernel_sigma
        return float(np.mean([_normal_interval((lower - m) / h, (upper - m) / h, log_mass=0.0) for m in self.members]))

    def ppf(self, q: float) -> float:
        q = _check_q(q)
        if self.kernel_sigma is None:
            if q == 0.0:
                return -math.inf
            return self.members[max(math.ceil(q * len(self.members)) - 1, 0)]
        if q in (0.0, 1.0):
            return -math.inf if q == 0.0 else math.inf
        shift = self.kernel_sigma * float(special.ndtri(q))
        return _solve_cdf(self, q, self.members[0] + shift, self.members[-1] + shift)

    def mean(self) -> float:
        return float(self._array.mean())

    def crps(self, y: float) -> float:
        y = _finite("observed value", y)
        x = self._array
        m = x.size
        if self.kernel_sigma is None:
            first = float(np.mean(np.abs(x - y)))
            if m == 1:
                return first
            # Σ_i Σ_j |x_i - x_j| over sorted members is 2 Σ_i (2i - m + 1) x_(i), i from 0.
            pair_sum = 2.0 * float(np.sum((2.0 * np.arange(m) - m + 1.0) * x))
            return first - pair_sum / (2.0 * m * (m - 1))
        return _gaussian_mixture_crps(x, self.kernel_sigma, y)


def _gaussian_mixture_crps(centres: FloatArray, h: float, y: float) -> float:
    """Equal-weight mixture of N(c_i, h²): E|X - y| - ½E|X - X'| with A(μ, s) = E|N(μ, s²)|."""

    def expected_abs(mu: FloatArray, s: float) -> float:
        z = mu / s
        pdf = np.exp(-0.5 * z * z) / _SQRT_2PI
        return float(np.mean(mu * (2.0 * special.ndtr(z) - 1.0) + 2.0 * s * pdf))

    pairs = (centres[:, None] - centres[None, :]).ravel()
    return expected_abs(y - centres, h) - 0.5 * expected_abs(pairs, h * math.sqrt(2.0))


@dataclass(frozen=True)
class Mixture(Distribution):
    """Σ w_k F_k: weights finite, ≥ 0, summing to 1 within 1e-6 (then renormalised exactly).

    `crps` integrates the mixture CDF numerically; the CRPS_INTEGRATION_TOLERANCE
    holds for continuous components (a CDF with jumps integrates less precisely).
    """

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.components) or not self.components:
            raise DistributionError("a mixture needs as many weights as components, and at least one")
        weights = [_finite("mixture weight", w) for w in self.weights]
        if any(w < 0.0 for w in weights):
            raise DistributionError(f"mixture weights must be ≥ 0, got {weights}")
        total = math.fsum(weights)
        if abs(total - 1.0) > 1e-6:
            raise DistributionError(f"mixture weights must sum to 1, got {total}")
        object.__setattr__(self, "weights", tuple(w / total for w in weights))
        object.__setattr__(self, "components", tuple(self.components))

    def cdf(self, x: float) -> float:
        return math.fsum(w * c.cdf(x) for w, c in zip(self.weights, self.components, strict=True))

    def sf(self, x: float) -> float:
        return math.fsum(w * c.sf(x) for w, c in zip(self.weights, self.components, strict=True))

    def probability_between(self, lower: float, upper: float) -> float:
        pairs = zip(self.weights, self.components, strict=True)
        return math.fsum(w * c.probability_between(lower, upper) for w, c in pairs)

    def ppf(self, q: float) -> float:
        q = _check_q(q)
        # The mixture's q-quantile lies between its components' q-quantiles.
        quantiles = [c.ppf(q) for w, c in zip(self.weights, self.components, strict=True) if w > 0.0]
        low, high = min(quantiles), max(quantiles)
        if not (math.isfinite(low) and math.isfinite(high)):
            return low if q == 0.0 else high
        return _solve_cdf(self, q, low, high)

    def mean(self) -> float:
        return math.fsum(w * c.mean() for w, c in zip(self.weights, self.components, strict=True))


@dataclass(frozen=True)
class Truncated(Distribution):
    """A distribution conditioned on X ≥ lower, computed from its base's probabilities.

    Build it with `truncated_below`, which checks that the base has mass at or
    above ``lower``.
    """

    base: Distribution
    lower: float
    _mass_below: float = field(init=False, repr=False, compare=False)
    _mass_above: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lower", _finite("lower", self.lower))
        object.__setattr__(self, "_mass_below", self.base.probability_between(-math.inf, self.lower))
        object.__setattr__(self, "_mass_above", self.base.probability_between(self.lower, math.inf))
        if not self._mass_above > 0.0:
            raise DistributionError(f"the distribution has no mass at or above {self.lower}")

    def cdf(self, x: float) -> float:
        if x < self.lower:
            return 0.0
        return min(1.0, max(0.0, self.base.cdf(x) - self._mass_below) / self._mass_above)

    def probability_between(self, lower: float, upper: float) -> float:
        start = max(lower, self.lower)
        if upper <= start:
            return 0.0
        return min(1.0, self.base.probability_between(start, upper) / self._mass_above)

    def ppf(self, q: float) -> float:
        q = _check_q(q)
        if q == 0.0:
            return self.lower
        return max(self.lower, self.base.ppf(min(1.0, self._mass_below + q * self._mass_above)))

    def mean(self) -> float:
        """lower + ∫_lower^∞ P(X > x) dx, numerically."""
        high = self.ppf(1.0 - _TAIL_QUANTILE)
        tol = CRPS_INTEGRATION_TOLERANCE / 10.0
        return self.lower + float(integrate.quad(self.sf, self.lower, high, epsabs=tol, epsrel=tol, limit=200)[0])


def truncated_below(distribution: Distribution, minimum: float) -> Distribution:
    """The distribution conditioned on X ≥ minimum: the day's high cannot be below what was observed.

    Exact for Normal (a TruncatedNormal, stable however far the minimum is in
    the tail) and for an undressed Ensemble (the members at or above minimum);
    generic via the base's probabilities for anything else. When the base puts
    no mass at all at or above ``minimum`` (an ensemble whose members are all
    below it, or a tail that underflows), the result is a point mass at
    ``minimum``: the forecast was wrong, and the observation is all we know.
    """
    minimum = _finite("minimum", minimum)
    if isinstance(distribution, Normal):
        return TruncatedNormal(distribution.mu, distribution.sigma, minimum)
    if isinstance(distribution, TruncatedNormal):
        return TruncatedNormal(distribution.mu, distribution.sigma, max(distribution.lower, minimum))
    if isinstance(distribution, Ensemble) and distribution.kernel_sigma is None:
        kept = tuple(m for m in distribution.members if m >= minimum)
        return Ensemble(kept or (minimum,))
    if not distribution.probability_between(minimum, math.inf) > 0.0:
        return Ensemble((minimum,))
    return Truncated(distribution, minimum)
