"""Training says loudly when a model does not beat the market on its validation events."""

from __future__ import annotations

from prediction.services.training import market_warning


def scores(brier_ci: list[float], log_loss_ci: list[float]) -> dict[str, object]:
    return {
        "n_events": 240,
        "brier_model": 0.0881,
        "brier_market": 0.0864,
        "brier_model_minus_market": 0.0017,
        "brier_model_minus_market_ci": brier_ci,
        "log_loss_model": 0.2790,
        "log_loss_market": 0.2730,
        "log_loss_model_minus_market": 0.0060,
        "log_loss_model_minus_market_ci": log_loss_ci,
    }


def test_a_model_worse_than_the_market_is_called_worse_with_its_numbers():
    warning = market_warning(scores([0.0002, 0.0032], [-0.001, 0.013]))
    assert warning == (
        "this model is worse than the market on 240 validation events: "
        "Brier 0.0881 vs 0.0864 (model - market +0.0017, 95% CI [+0.0002, +0.0032]); "
        "log loss 0.2790 vs 0.2730 (model - market +0.0060, 95% CI [-0.0010, +0.0130]). "
        "Trading on it pays the market to be wrong."
    )


def test_an_interval_straddling_zero_is_no_better_than_the_market():
    warning = market_warning(scores([-0.0004, 0.0032], [-0.002, 0.013]))
    assert warning is not None and warning.startswith("this model is no better than the market on 240")
    assert warning.endswith("Trading on it pays fees for no edge.")


def test_a_model_better_than_the_market_on_every_score_gets_no_warning():
    assert market_warning(scores([-0.003, -0.0001], [-0.02, -0.001])) is None
    assert market_warning({"n_events": 0}) is None  # nothing to compare with
