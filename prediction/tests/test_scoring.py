from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from prediction.distributions import Ensemble, Normal
from prediction.scoring import (
    LOG_LOSS_EPSILON,
    ReliabilityBin,
    Score,
    ScoringError,
    absolute_error,
    bootstrap_difference,
    bootstrap_score,
    brier_losses,
    brier_score,
    crps,
    expected_calibration_error,
    log_loss,
    log_losses,
    mean_crps,
    normalise_prices,
    reliability_table,
)

FORECASTS = [[0.2, 0.5, 0.3], [0.9, 0.1]]
OUTCOMES = [[0, 1, 0], [1, 0]]


def test_brier_score_is_the_mean_over_markets():
    # (0.04 + 0.25 + 0.09 + 0.01 + 0.01) / 5 markets
    assert brier_score(FORECASTS, OUTCOMES) == pytest.approx(0.08)
    first, second = brier_losses(FORECASTS, OUTCOMES)
    assert first == pytest.approx([0.04, 0.25, 0.09]) and second == pytest.approx([0.01, 0.01])


def test_log_loss_is_the_mean_binary_log_loss_over_markets():
    expected = -(math.log(0.8) + math.log(0.5) + math.log(0.7) + math.log(0.9) + math.log(0.9)) / 5
    assert log_loss(FORECASTS, OUTCOMES) == pytest.approx(expected)


def test_log_loss_clips_certain_misses_at_epsilon():
    assert LOG_LOSS_EPSILON == 1e-6
    assert log_loss([[0.0, 1.0]], [[1, 0]]) == pytest.approx(-math.log(1e-6))
    assert log_losses([[0.0, 1.0]], [[0, 1]]) == [[pytest.approx(-math.log1p(-1e-6))] * 2]
    assert log_loss([[0.0, 1.0]], [[1, 0]], epsilon=0.01) == pytest.approx(-math.log(0.01))


@pytest.mark.parametrize(
    ("forecasts", "outcomes", "message"),
    [
        ([[0.5, 0.5]], [[1, 0], [1, 0]], "1 forecast events but 2"),
        ([[0.5, 0.5]], [[1, 0, 0]], "event 0: 2 probabilities for 3"),
        ([[1.5, -0.5]], [[1, 0]], r"in \[0, 1\]"),
        ([[math.nan, 1.0]], [[1, 0]], "finite"),
        ([[0.5, 0.5]], [[2, 0]], "0 or 1"),
        ([[]], [[]], "event 0"),
    ],
)
def test_it_rejects_forecasts_that_do_not_line_up_with_outcomes(forecasts, outcomes, message):
    with pytest.raises(ScoringError, match=message):
        brier_score(forecasts, outcomes)


def test_market_prices_are_normalised_within_an_event():
    assert normalise_prices([0.2, 0.5, 0.4]) == pytest.approx([0.2 / 1.1, 0.5 / 1.1, 0.4 / 1.1])
    assert math.fsum(normalise_prices([0.02, 0.1, 0.45, 0.35, 0.08, 0.01])) == pytest.approx(1.0, abs=1e-15)
    # A missing price takes the mass the others leave unclaimed...
    assert normalise_prices([Decimal("0.30"), None, 0.5]) == pytest.approx([0.3, 0.2, 0.5])
    assert normalise_prices([0.3, None, None, 0.5]) == pytest.approx([0.3, 0.1, 0.1, 0.5])
    # ...but at least a cent, when the others already claim it all.
    assert normalise_prices([0.6, None, None, 0.45]) == pytest.approx(
        [0.6 / 1.07, 0.01 / 1.07, 0.01 / 1.07, 0.45 / 1.07]
    )
    assert normalise_prices([None, None, None]) == pytest.approx([1 / 3] * 3)
    assert normalise_prices([0.0, 0.0]) == [0.5, 0.5]
    with pytest.raises(ScoringError, match=r"in \[0, 1\]"):
        normalise_prices([1.2, 0.1])
    with pytest.raises(ScoringError):
        normalise_prices([])


def test_crps_and_absolute_error_of_continuous_forecasts():
    assert crps(Normal(70, 3), 72) == Normal(70, 3).crps(72)
    assert mean_crps([Normal(70, 3), Ensemble((1.0, 2.0, 3.0, 4.0))], [72.0, 2.5]) == pytest.approx(
        (Normal(70, 3).crps(72) + 1 / 6) / 2
    )
    assert absolute_error(Normal(70, 3), 72.5) == 2.5
    with pytest.raises(ScoringError):
        mean_crps([Normal(70, 3)], [70.0, 71.0])


RELIABILITY_FORECASTS = [[0.05, 0.15, 0.8], [0.12, 0.88, 0.0], [1.0, 0.0]]
RELIABILITY_OUTCOMES = [[0, 0, 1], [0, 1, 0], [1, 0]]


def test_reliability_table_by_hand():
    table = reliability_table(RELIABILITY_FORECASTS, RELIABILITY_OUTCOMES, n_bins=10)
    assert len(table) == 10
    rows: list[tuple[object, ...]] = [
        (b.lower, b.upper, b.count, b.mean_predicted, b.observed_frequency) for b in table
    ]
    assert rows[0] == (0.0, 0.1, 3, pytest.approx(0.05 / 3), 0.0)
    assert rows[1] == (0.1, 0.2, 2, pytest.approx(0.135), 0.0)
    assert rows[8] == (0.8, 0.9, 2, pytest.approx(0.84), 1.0)
    assert table[9] == ReliabilityBin(0.9, 1.0, 1, 1.0, 1.0)  # 1.0 belongs to the last bin
    assert table[5] == ReliabilityBin(0.5, 0.6, 0, None, None)
    assert sum(b.count for b in table) == 8


def test_expected_calibration_error_by_hand():
    # (3·|0.0167 - 0| + 2·|0.135 - 0| + 2·|0.84 - 1| + 1·0) / 8 = (0.05 + 0.27 + 0.32) / 8
    assert expected_calibration_error(RELIABILITY_FORECASTS, RELIABILITY_OUTCOMES) == pytest.approx(0.08)
    assert expected_calibration_error([[0.0, 1.0]], [[0, 1]]) == 0.0


def simulated_events(n_events, rng):
    """Six-bracket events with one winner drawn from TRUE; A forecasts TRUE, B a blend with uniform."""
    winners = rng.choice(6, size=n_events, p=TRUE)
    outcomes = [[int(k == w) for k in range(6)] for w in winners]
    return outcomes, [list(TRUE)] * n_events, [list(BLURRED)] * n_events


TRUE = np.array([0.05, 0.15, 0.3, 0.3, 0.15, 0.05])
BLURRED = 0.5 * TRUE + 0.5 / 6
# E(f - o)² = (f - p)² + p(1 - p) per market, so A beats B by Σ(b - p)²/6 per market.
TRUE_DIFFERENCE = -float(np.sum((BLURRED - TRUE) ** 2)) / 6


def test_bootstrap_is_deterministic_for_a_seed_and_reports_its_sample():
    outcomes, forecasts, _ = simulated_events(80, np.random.default_rng(1))
    losses = brier_losses(forecasts, outcomes)
    score = bootstrap_score(losses, seed=42, n_resamples=500)
    assert score == bootstrap_score(losses, seed=42, n_resamples=500)
    assert score == bootstrap_score(losses, seed=np.random.default_rng(42), n_resamples=500)
    assert score != bootstrap_score(losses, seed=43, n_resamples=500)
    assert isinstance(score, Score) and (score.n_events, score.n_markets, score.confidence) == (80, 480, 0.95)
    assert score.value == pytest.approx(brier_score(forecasts, outcomes))
    assert score.low < score.value < score.high


def test_bootstrap_resamples_whole_events():
    # The same 100 market losses, grouped as 20 events whose markets score alike or as 100 single-market
    # events: drawing markets singly could not tell them apart; drawing events must give the grouped
    # losses a wider interval, since they hold only 20 independent pieces of evidence.
    grouped = [[float(e % 2)] * 5 for e in range(20)]
    single = [[loss] for event in grouped for loss in event]
    wide, narrow = bootstrap_score(grouped, seed=5), bootstrap_score(single, seed=5)
    assert wide.value == narrow.value == 0.5
    assert (wide.n_events, wide.n_markets, narrow.n_events, narrow.n_markets) == (20, 100, 100, 100)
    assert wide.high - wide.low > 1.8 * (narrow.high - narrow.low)  # about √5 wider


def test_paired_bootstrap_of_identical_forecasters_is_exactly_zero():
    outcomes, forecasts, _ = simulated_events(50, np.random.default_rng(2))
    losses = brier_losses(forecasts, outcomes)
    difference = bootstrap_difference(losses, losses, seed=1, n_resamples=200)
    assert (difference.value, difference.low, difference.high) == (0.0, 0.0, 0.0)


def test_paired_bootstrap_intervals_contain_the_true_difference():
    rng = np.random.default_rng(2026)
    covered = 0
    replications = 200
    for replication in range(replications):
        outcomes, a, b = simulated_events(150, rng)
        difference = bootstrap_difference(
            brier_losses(a, outcomes), brier_losses(b, outcomes), seed=replication, n_resamples=400
        )
        covered += difference.low <= TRUE_DIFFERENCE <= difference.high
    assert covered / replications >= 0.88  # nominal 95 %


def test_paired_bootstrap_needs_the_same_markets():
    with pytest.raises(ScoringError, match="same events and markets"):
        bootstrap_difference([[0.1, 0.2]], [[0.1]], seed=1)
    with pytest.raises(ScoringError, match="at least one event"):
        bootstrap_score([], seed=1)
    with pytest.raises(ScoringError, match="confidence"):
        bootstrap_score([[0.1]], seed=1, confidence=1.0)
