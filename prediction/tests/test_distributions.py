from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from prediction.distributions import (
    SIGMA_FLOOR_F,
    Distribution,
    DistributionError,
    Ensemble,
    Mixture,
    Normal,
    Truncated,
    TruncatedNormal,
    truncated_below,
)


def crps_by_definition(cdf, y, low, high):
    """∫ (F(x) - 1{x ≥ y})² dx, straight from the definition, for checking closed forms."""
    left = integrate.quad(lambda x: cdf(x) ** 2, low, y, epsabs=1e-11, epsrel=1e-11, limit=500)[0]
    right = integrate.quad(lambda x: (1.0 - cdf(x)) ** 2, y, high, epsabs=1e-11, epsrel=1e-11, limit=500)[0]
    return left + right


@pytest.mark.parametrize(("mu", "sigma", "y"), [(70.0, 3.0, 72.0), (70.0, 3.0, 70.0), (55.5, 1.2, 61.0), (0, 8, -20)])
def test_normal_crps_closed_form_matches_numerical_integration(mu, sigma, y):
    normal = Normal(mu, sigma)
    expected = crps_by_definition(normal.cdf, y, mu - 40 * sigma, mu + 40 * sigma)
    assert normal.crps(y) == pytest.approx(expected, abs=1e-9)
    # The generic integration every other distribution relies on meets its documented tolerance.
    assert Distribution.crps(normal, y) == pytest.approx(expected, abs=1e-6)


def test_normal_crps_of_a_perfect_centre_is_sigma_times_a_constant():
    # CRPS(N(mu, s²), mu) = s (2φ(0) - 1/√π) = s (√2 - 1)/√π.
    assert Normal(10, 2).crps(10) == pytest.approx(2 * (math.sqrt(2) - 1) / math.sqrt(math.pi))


def test_normal_matches_scipy():
    normal = Normal(68.0, 4.0)
    for x in (50.0, 66.5, 68.0, 75.3, 100.0):
        assert normal.cdf(x) == pytest.approx(stats.norm.cdf(x, 68, 4), rel=1e-12)
        assert normal.sf(x) == pytest.approx(stats.norm.sf(x, 68, 4), rel=1e-12)
        assert normal.logpdf(x) == pytest.approx(stats.norm.logpdf(x, 68, 4), rel=1e-12)
    for q in (0.001, 0.1, 0.5, 0.9, 0.999):
        assert normal.ppf(q) == pytest.approx(stats.norm.ppf(q, 68, 4), rel=1e-12)
        assert normal.cdf(normal.quantile(q)) == pytest.approx(q)
    assert normal.ppf(0.0) == -math.inf and normal.ppf(1.0) == math.inf
    assert normal.mean() == normal.median() == 68.0


def test_normal_interval_probabilities_keep_precision_in_the_tails():
    normal = Normal(0.0, 1.0)
    assert normal.probability_between(8.0, 9.0) == pytest.approx(stats.norm.sf(8) - stats.norm.sf(9), rel=1e-9)
    assert normal.probability_between(-9.0, -8.0) == pytest.approx(stats.norm.sf(8) - stats.norm.sf(9), rel=1e-9)
    assert normal.probability_between(-math.inf, math.inf) == 1.0
    assert normal.probability_between(1.0, 1.0) == 0.0 and normal.probability_between(2.0, 1.0) == 0.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: Normal(math.nan, 1.0),
        lambda: Normal(70.0, 0.0),
        lambda: Normal(70.0, -1.0),
        lambda: Normal(70.0, math.inf),
        lambda: Normal(math.inf, 1.0),
        lambda: Ensemble(()),
        lambda: Ensemble((70.0, math.nan)),
        lambda: Ensemble((70.0,), kernel_sigma=0.0),
        lambda: Mixture((0.5, 0.4), (Normal(0, 1), Normal(1, 1))),
        lambda: Mixture((1.5, -0.5), (Normal(0, 1), Normal(1, 1))),
        lambda: Mixture((1.0,), ()),
        lambda: TruncatedNormal(70, 2, math.nan),
    ],
)
def test_it_rejects_parameters_that_are_not_a_distribution(build):
    with pytest.raises(DistributionError):
        build()


def test_it_floors_sigma_when_building_from_data():
    assert SIGMA_FLOOR_F == 1.0
    assert Normal.with_floor(70, 0.2).sigma == 1.0
    assert Normal.with_floor(70, 0.2, floor=0.5).sigma == 0.5
    assert Normal.with_floor(70, 3.0).sigma == 3.0
    assert Normal.from_sample([70.0, 70.1, 70.2]).sigma == 1.0
    fitted = Normal.from_sample([60.0, 70.0, 80.0])
    assert (fitted.mu, fitted.sigma) == (70.0, 10.0)
    with pytest.raises(DistributionError, match="at least two"):
        Normal.from_sample([70.0])
    # A floor applies to data, not to a sigma stated outright.
    assert Normal(70, 0.2).sigma == 0.2


def test_ensemble_fair_crps_of_a_small_case():
    # mean|x - y| = (1.5 + 0.5 + 0.5 + 1.5)/4 = 1; ΣΣ|x_i - x_j| = 20, /(2·4·3) = 5/6.
    assert Ensemble((4.0, 1.0, 3.0, 2.0)).crps(2.5) == pytest.approx(1 / 6)
    assert Ensemble((3.0,)).crps(5.0) == 2.0


def test_ensemble_fair_crps_is_unbiased_for_the_parent_distribution():
    rng = np.random.default_rng(20260801)
    y = 0.7
    fair = [Ensemble(tuple(rng.normal(0.0, 1.0, 3))).crps(y) for _ in range(20_000)]
    truth = Normal(0.0, 1.0).crps(y)
    assert np.mean(fair) == pytest.approx(truth, abs=0.01)


def test_undressed_ensemble_is_its_members_with_half_open_intervals():
    ensemble = Ensemble((44.6, 45.5, 47.0, 43.5))
    assert ensemble.members == (43.5, 44.6, 45.5, 47.0)
    assert ensemble.probability_between(43.5, 45.5) == 0.5  # 43.5 in, 45.5 out
    assert ensemble.probability_between(45.5, 47.5) == 0.5
    assert ensemble.cdf(45.5) == 0.75
    assert ensemble.ppf(0.5) == 44.6 and ensemble.ppf(0.51) == 45.5 and ensemble.ppf(1.0) == 47.0
    assert ensemble.mean() == pytest.approx(45.15)


def test_dressed_ensemble_is_a_mixture_of_normals():
    members = (68.0, 70.5, 71.0, 75.0)
    dressed = Ensemble(members, kernel_sigma=1.5)
    mixture = Mixture((0.25,) * 4, tuple(Normal(m, 1.5) for m in members))
    for x in (60.0, 70.0, 72.2, 80.0):
        assert dressed.cdf(x) == pytest.approx(mixture.cdf(x), abs=1e-14)
        assert dressed.probability_between(x, x + 2) == pytest.approx(mixture.probability_between(x, x + 2))
    for y in (65.0, 70.7, 79.0):
        # Exact closed form (dressed) against integration (mixture): the documented tolerance.
        assert dressed.crps(y) == pytest.approx(mixture.crps(y), abs=1e-6)
        assert dressed.crps(y) == pytest.approx(crps_by_definition(mixture.cdf, y, 40, 110), abs=1e-8)
    assert dressed.ppf(0.3) == pytest.approx(mixture.ppf(0.3), abs=1e-8)


def test_mixture_cdf_is_the_weighted_sum_and_ppf_inverts_it():
    a, b = Normal(60, 2), Normal(70, 4)
    mixture = Mixture((0.3, 0.7), (a, b))
    for x in (55.0, 60.0, 64.0, 70.0, 80.0):
        assert mixture.cdf(x) == pytest.approx(0.3 * a.cdf(x) + 0.7 * b.cdf(x), abs=1e-15)
        assert mixture.sf(x) == pytest.approx(1 - mixture.cdf(x), abs=1e-14)
    for q in (0.01, 0.3, 0.5, 0.99):
        assert mixture.cdf(mixture.ppf(q)) == pytest.approx(q, abs=1e-9)
    assert mixture.mean() == pytest.approx(0.3 * 60 + 0.7 * 70)


def test_truncated_normal_has_all_its_mass_above_the_minimum_and_the_textbook_mean():
    normal = Normal(70.0, 3.0)
    truncated = truncated_below(normal, 72.0)
    assert isinstance(truncated, TruncatedNormal)
    reference = stats.truncnorm((72 - 70) / 3, math.inf, loc=70, scale=3)
    assert truncated.probability_between(72.0, math.inf) == pytest.approx(1.0, abs=1e-15)
    assert truncated.probability_between(-math.inf, 72.0) == 0.0 and truncated.cdf(71.9) == 0.0
    assert truncated.mean() == pytest.approx(reference.mean(), rel=1e-12)
    for x in (72.5, 74.0, 80.0):
        assert truncated.cdf(x) == pytest.approx(reference.cdf(x), rel=1e-10)
        assert truncated.probability_between(72.0, x) == pytest.approx(
            (normal.cdf(x) - normal.cdf(72)) / normal.sf(72), rel=1e-10
        )
    for q in (0.1, 0.5, 0.9):
        assert truncated.ppf(q) == pytest.approx(reference.ppf(q), rel=1e-10)
    assert truncated.logpdf(73.0) == pytest.approx(reference.logpdf(73.0), rel=1e-10)
    # Truncating far below the mean changes nothing noticeable.
    assert truncated_below(normal, 40.0).mean() == pytest.approx(70.0, abs=1e-12)


def test_truncated_normal_far_in_the_tail_stays_finite_and_hugs_the_minimum():
    truncated = truncated_below(Normal(70.0, 2.0), 160.0)  # 45 sigma: P(X ≥ 160) underflows to 0
    beyond = math.exp(stats.norm.logsf(45.25) - stats.norm.logsf(45.0))  # P(X ≥ 160.5 | X ≥ 160), about 1e-5
    assert truncated.probability_between(160.5, math.inf) == pytest.approx(beyond, rel=1e-9)
    assert truncated.probability_between(160.0, 160.5) == pytest.approx(1.0 - beyond, rel=1e-12)
    # Far out the conditional law is close to minimum + Exponential(scale sigma²/(minimum - mu)).
    assert truncated.mean() == pytest.approx(160.0 + 4.0 / 90.0, rel=1e-3)
    assert 160.0 <= truncated.median() < 160.1
    assert math.isfinite(truncated.crps(161.0))


def test_truncated_normal_crps_matches_the_closed_form_of_thorarinsdottir_and_gneiting():
    mu, sigma, lower = 70.0, 3.0, 71.0
    truncated = truncated_below(Normal(mu, sigma), lower)
    for y in (71.0, 72.5, 78.0):
        # CRPS of N(mu, s²) truncated below at a, for y ≥ a (Thorarinsdottir & Gneiting 2010, shifted by a).
        m, z = (mu - lower) / sigma, (y - mu) / sigma
        p = stats.norm.cdf(m)
        closed = (sigma / p**2) * (
            z * p * (2 * stats.norm.cdf(z) + p - 2)
            + 2 * stats.norm.pdf(z) * p
            - stats.norm.cdf(math.sqrt(2) * m) / math.sqrt(math.pi)
        )
        assert truncated.crps(y) == pytest.approx(closed, abs=1e-6)


def test_generic_truncation_agrees_with_the_exact_truncated_normal():
    normal = Normal(65.0, 4.0)
    generic, exact = Truncated(normal, 68.0), truncated_below(normal, 68.0)
    for x in (67.0, 68.0, 69.3, 75.0):
        assert generic.cdf(x) == pytest.approx(exact.cdf(x), abs=1e-12)
        assert generic.probability_between(x, x + 1.0) == pytest.approx(exact.probability_between(x, x + 1.0))
    for q in (0.05, 0.5, 0.95):
        assert generic.ppf(q) == pytest.approx(exact.ppf(q), abs=1e-8)
    assert generic.mean() == pytest.approx(exact.mean(), abs=1e-6)
    assert generic.crps(70.0) == pytest.approx(exact.crps(70.0), abs=1e-6)


def test_truncating_a_mixture_conditions_every_component():
    mixture = Mixture((0.5, 0.5), (Normal(60, 2), Normal(70, 2)))
    truncated = truncated_below(mixture, 65.0)
    assert isinstance(truncated, Truncated)
    assert truncated.probability_between(-math.inf, 65.0) == 0.0
    assert truncated.probability_between(65.0, math.inf) == pytest.approx(1.0)
    low, high = Normal(60, 2), Normal(70, 2)
    mass = 0.5 * low.sf(65) + 0.5 * high.sf(65)
    expected = (0.5 * low.probability_between(65, 68) + 0.5 * high.probability_between(65, 68)) / mass
    assert truncated.probability_between(60, 68) == pytest.approx(expected)


def test_truncating_an_ensemble_keeps_the_members_at_or_above_the_minimum():
    ensemble = Ensemble((70.0, 72.0, 74.0, 76.0))
    assert truncated_below(ensemble, 72.0) == Ensemble((72.0, 74.0, 76.0))
    # Every member below what was observed: all we know is the observation.
    assert truncated_below(ensemble, 80.0) == Ensemble((80.0,))
    dressed = truncated_below(Ensemble((70.0, 72.0), kernel_sigma=1.0), 71.0)
    assert dressed.cdf(70.9) == 0.0 and dressed.probability_between(71.0, math.inf) == pytest.approx(1.0)
    assert truncated_below(Mixture((1.0,), (Normal(0, 1),)), 60.0) == Ensemble((60.0,))
