from __future__ import annotations

import json
import math

import numpy as np
import pytest

from prediction.distributions import Normal
from prediction.emos import EmosError, EmosModel, fit_emos

A, B, C, D = 2.0, (0.6, 0.35), 1.5, 0.8  # mu = A + B·x, sigma² = C + D·s²


def synthetic(n, seed, *, spread=True):
    """Two noisy sources of a seasonal high, a spread, and highs drawn from the EMOS model itself."""
    rng = np.random.default_rng(seed)
    truth = 65 + 15 * np.sin(np.arange(n) * 2 * np.pi / 365) + rng.normal(0, 6, n)
    x = np.column_stack([truth + rng.normal(0, 2, n), truth + rng.normal(1, 3, n)])
    s = rng.uniform(0.3, 4.0, n) if spread else np.zeros(n)
    sigma = np.sqrt(C + (D * s**2 if spread else 0))
    y = A + x @ np.array(B) + rng.normal(0, 1, n) * sigma
    return x, y, s


def ols_baseline(x, y):
    design = np.column_stack([np.ones(len(y)), x])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    residual_sd = float(np.std(y - design @ beta, ddof=design.shape[1]))
    return lambda rows: [Normal(float(mu), residual_sd) for mu in np.column_stack([np.ones(len(rows)), rows]) @ beta]


def mean_crps(forecasts, observed):
    return float(np.mean([f.crps(y) for f, y in zip(forecasts, observed, strict=True)]))


def test_it_recovers_the_parameters_of_synthetic_data():
    x, y, s = synthetic(4000, seed=7)
    model = fit_emos(x, y, s, feature_names=["nws", "gfs"])
    assert model.intercept == pytest.approx(A, abs=0.6)
    assert model.coefficients == pytest.approx(B, abs=0.03)
    assert model.variance_intercept == pytest.approx(C, abs=0.3)
    assert model.variance_slope == pytest.approx(D, abs=0.1)
    assert model.uses_spread and model.n_train == 4000
    assert model.sigma(2.0) == pytest.approx(math.sqrt(C + D * 4.0), rel=0.05)


def test_it_recovers_a_constant_sigma_without_a_spread():
    x, y, _ = synthetic(3000, seed=8, spread=False)
    model = fit_emos(x, y)
    assert not model.uses_spread and model.variance_slope == 0.0
    assert model.sigma() == pytest.approx(math.sqrt(C), rel=0.05)
    assert model.coefficients == pytest.approx(B, abs=0.03)
    assert model.feature_names == ("x0", "x1")


def test_it_scores_no_worse_than_least_squares_with_a_residual_sigma_on_held_out_days():
    x, y, s = synthetic(3000, seed=9)
    train, test = slice(0, 2000), slice(2000, None)
    model = fit_emos(x[train], y[train], s[train])
    emos = mean_crps(model.predict_many(x[test].tolist(), s[test].tolist()), y[test])
    baseline = mean_crps(ols_baseline(x[train], y[train])(x[test]), y[test])
    assert emos <= baseline
    in_sample = model.predict_many(x[train].tolist(), s[train].tolist())
    assert model.train_crps == pytest.approx(mean_crps(in_sample, y[train]))


def test_the_fit_is_deterministic():
    x, y, s = synthetic(500, seed=10)
    assert fit_emos(x, y, s) == fit_emos(x, y, s)


def test_the_model_round_trips_through_plain_json():
    x, y, s = synthetic(300, seed=11)
    model = fit_emos(x, y, s, feature_names=["nws", "gfs"])
    text = model.to_json()
    assert json.loads(text)["kind"] == "emos-ngr"
    assert EmosModel.from_json(text) == model
    assert EmosModel.from_json_dict(json.loads(json.dumps(model.to_json_dict()))) == model


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"kind": "xgboost", "version": 1}', "not an emos-ngr"),
        ('{"kind": "emos-ngr", "version": 1}', "lacks"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_it_refuses_an_artifact_it_cannot_read(text, message):
    with pytest.raises(EmosError, match=message):
        EmosModel.from_json(text)


def test_it_refuses_impossible_stored_parameters():
    data = fit_emos(*synthetic(100, seed=12)).to_json_dict()
    with pytest.raises(EmosError, match="c ≥ 0"):
        EmosModel.from_json_dict({**data, "variance_slope": -1.0})
    with pytest.raises(EmosError, match="number"):
        EmosModel.from_json_dict({**data, "intercept": "2.0"})


def model_by_hand(**changes):
    params = dict(
        feature_names=("nws", "gfs", "hrrr"),
        intercept=1.0,
        coefficients=(0.5, 0.3, 0.2),
        variance_intercept=4.0,
        variance_slope=1.0,
        uses_spread=True,
        fallback_spread=2.0,
        sigma_floor=1.0,
        n_train=100,
        train_crps=1.2,
    )
    return EmosModel(**{**params, **changes})


def test_it_predicts_a_normal_from_named_or_ordered_features():
    model = model_by_hand()
    forecast = model.predict({"nws": 70.0, "gfs": 72.0, "hrrr": 71.0}, spread=1.5)
    assert forecast == Normal(1 + 0.5 * 70 + 0.3 * 72 + 0.2 * 71, math.sqrt(4 + 1.5**2))
    assert model.predict([70.0, 72.0, 71.0], 1.5) == forecast


def test_a_missing_feature_takes_the_mean_of_the_available_ones():
    model = model_by_hand()
    # hrrr missing: it stands in as (70 + 72)/2 = 71, so the weights keep their sum.
    expected = 1 + 0.5 * 70 + 0.3 * 72 + 0.2 * 71
    assert model.mu({"nws": 70.0, "gfs": 72.0}) == pytest.approx(expected)
    assert model.mu({"nws": 70.0, "gfs": 72.0, "hrrr": None}) == pytest.approx(expected)
    assert model.mu([70.0, 72.0, math.nan]) == pytest.approx(expected)
    assert model.mu({"gfs": 72.0}) == pytest.approx(1 + 72.0)
    with pytest.raises(EmosError, match="no feature available"):
        model.mu({"nws": None})
    with pytest.raises(EmosError, match="unknown features"):
        model.mu({"ecmwf": 70.0})
    with pytest.raises(EmosError, match="expected 3 features"):
        model.mu([70.0, 72.0])


def test_a_missing_spread_uses_the_training_spread_and_sigma_never_falls_below_the_floor():
    model = model_by_hand()
    assert model.sigma(None) == model.sigma(math.nan) == pytest.approx(math.sqrt(4 + 2.0**2))
    tight = model_by_hand(variance_intercept=0.01, variance_slope=0.0, sigma_floor=1.0)
    assert tight.sigma(0.0) == 1.0


def test_the_fit_respects_the_sigma_floor():
    rng = np.random.default_rng(13)
    x = rng.normal(70, 5, (200, 1))
    y = x[:, 0] + rng.normal(0, 0.1, 200)  # a near-perfect forecast
    model = fit_emos(x, y)
    assert model.sigma() == pytest.approx(1.0)
    assert fit_emos(x, y, sigma_floor=0.5).sigma() == pytest.approx(0.5)


def test_it_fits_on_complete_rows_only():
    x, y, s = synthetic(300, seed=14)
    x[:10, 0] = np.nan
    y[10:15] = np.nan
    s[15:20] = np.nan
    assert fit_emos(x, y, s).n_train == 280


def test_too_few_rows_is_a_clear_error():
    x, y, s = synthetic(30, seed=15)
    with pytest.raises(EmosError, match="at least 10 complete rows, got 9"):
        fit_emos(x[:9], y[:9], s[:9])
    x[:25, 1] = np.nan
    with pytest.raises(EmosError, match="got 5"):
        fit_emos(x, y, s)


def test_a_constant_feature_is_a_clear_error():
    x, y, s = synthetic(100, seed=16)
    x[:, 1] = 70.0
    with pytest.raises(EmosError, match="feature 'gfs' is constant"):
        fit_emos(x, y, s, feature_names=["nws", "gfs"])


def test_a_constant_spread_falls_back_to_a_constant_sigma():
    x, y, _ = synthetic(500, seed=17, spread=False)
    model = fit_emos(x, y, np.full(500, 2.0))  # one lead time: the spread says nothing
    assert not model.uses_spread and model.variance_slope == 0.0
    assert model.sigma(5.0) == model.sigma(0.0) == pytest.approx(math.sqrt(C), rel=0.1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, y, s: fit_emos(x[:, 0], y, s), "n-by-p"),
        (lambda x, y, s: fit_emos(x, y[:-1], s), "n-by-p"),
        (lambda x, y, s: fit_emos(x, y, s[:-1]), "spread must be n long"),
        (lambda x, y, s: fit_emos(x, y, -s), "spread must be ≥ 0"),
        (lambda x, y, s: fit_emos(x, y, s, feature_names=["one"]), "1 feature names for 2"),
        (lambda x, y, s: fit_emos(x, y, s, feature_names=["nws", "nws"]), "unique"),
    ],
)
def test_it_rejects_inputs_that_do_not_line_up(call, message):
    x, y, s = synthetic(50, seed=18)
    with pytest.raises(EmosError, match=message):
        call(x, y, s)
