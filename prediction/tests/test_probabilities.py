from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.brackets import Bracket, from_strikes
from prediction.distributions import Distribution, Ensemble, Mixture, Normal
from prediction.probabilities import (
    LadderError,
    bracket_outcomes,
    bracket_probabilities,
    bracket_probability,
    check_ladder,
    probabilities_by_ticker,
)

# KXHIGHNY-26AUG02 as documented: T80 is `less` 80 → {≤ 79}, B80.5 is 80-81, ..., T87 is `greater` 87 → {≥ 88}.
LADDER = [
    ("KXHIGHNY-26AUG02-T80", from_strikes("less", None, Decimal(80))),
    ("KXHIGHNY-26AUG02-B80.5", from_strikes("between", Decimal(80), Decimal(81))),
    ("KXHIGHNY-26AUG02-B82.5", from_strikes("between", Decimal(82), Decimal(83))),
    ("KXHIGHNY-26AUG02-B84.5", from_strikes("between", Decimal(84), Decimal(85))),
    ("KXHIGHNY-26AUG02-B86.5", from_strikes("between", Decimal(86), Decimal(87))),
    ("KXHIGHNY-26AUG02-T87", from_strikes("greater", Decimal(87), None)),
]
BRACKETS = [bracket for _, bracket in LADDER]

# Standard normal table: Φ(0.25), Φ(0.5), Φ(0.75), Φ(1.25), Φ(1.75), Φ(2.25).
PHI = {0.25: 0.5987063, 0.5: 0.6914625, 0.75: 0.7733726, 1.25: 0.8943502, 1.75: 0.9599408, 2.25: 0.9877755}


def test_the_documented_ladder_against_hand_computed_values():
    # N(83, 2²); edges 79.5, 81.5, 83.5, 85.5, 87.5 are z = -1.75, -0.75, 0.25, 1.25, 2.25.
    assert BRACKETS[0] == Bracket(None, 79) and BRACKETS[-1] == Bracket(88, None)
    expected = [
        1 - PHI[1.75],
        PHI[1.75] - PHI[0.75],
        PHI[0.25] - (1 - PHI[0.75]),
        PHI[1.25] - PHI[0.25],
        PHI[2.25] - PHI[1.25],
        1 - PHI[2.25],
    ]
    assert bracket_probabilities(Normal(83, 2), BRACKETS) == pytest.approx(expected, abs=2e-7)


def test_a_running_maximum_conditions_the_ladder_by_hand():
    # Observed 84 so far: X ≥ 84 (z ≥ 0.5); the three lowest brackets are out.
    beyond = 1 - PHI[0.5]
    expected = [0, 0, 0, (PHI[1.25] - PHI[0.5]) / beyond, (PHI[2.25] - PHI[1.25]) / beyond, (1 - PHI[2.25]) / beyond]
    probabilities = bracket_probabilities(Normal(83, 2), BRACKETS, running_max=84.0)
    assert probabilities == pytest.approx(expected, abs=1e-6)
    assert probabilities[:3] == [0.0, 0.0, 0.0]


def test_a_forecast_belongs_to_the_bracket_its_rounded_value_is_in():
    ladder = [Bracket(None, 43), Bracket(44, 45), Bracket(46, 47), Bracket(48, None)]
    assert bracket_probabilities(Ensemble((44.6,)), ladder) == [0, 1, 0, 0]
    assert bracket_probabilities(Ensemble((43.5,)), ladder) == [0, 1, 0, 0]  # 43.5 reports as 44
    assert bracket_probabilities(Ensemble((45.5,)), ladder) == [0, 0, 1, 0]  # 45.5 reports as 46
    assert bracket_probabilities(Ensemble((43.4,)), ladder) == [1, 0, 0, 0]


def test_the_order_of_the_markets_is_kept():
    shuffled = [BRACKETS[3], BRACKETS[0], BRACKETS[5], BRACKETS[1], BRACKETS[4], BRACKETS[2]]
    in_order = bracket_probabilities(Normal(83, 2), BRACKETS)
    assert bracket_probabilities(Normal(83, 2), shuffled) == pytest.approx([in_order[i] for i in (3, 0, 5, 1, 4, 2)])


def test_probabilities_by_ticker():
    by_ticker = probabilities_by_ticker(Normal(83, 2), LADDER)
    assert list(by_ticker) == [ticker for ticker, _ in LADDER]
    assert by_ticker["KXHIGHNY-26AUG02-B82.5"] == pytest.approx(PHI[0.25] - (1 - PHI[0.75]), abs=2e-7)
    assert math.fsum(by_ticker.values()) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(LadderError, match="duplicate"):
        probabilities_by_ticker(Normal(83, 2), [*LADDER[:-1], (LADDER[0][0], LADDER[-1][1])])


def test_the_probability_of_any_bracket():
    assert bracket_probability(Normal(83, 2), Bracket(82, 83)) == pytest.approx(PHI[0.25] - (1 - PHI[0.75]), abs=2e-7)
    assert bracket_probability(Normal(83, 2), Bracket(None, 83)) == pytest.approx(PHI[0.25], abs=2e-7)
    assert bracket_probability(Normal(83, 2), Bracket(None, 83), running_max=84) == 0.0
    assert bracket_probability(Normal(83, 2), Bracket(84, None), running_max=84) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("brackets", "message"),
    [
        ([Bracket(None, 79), Bracket(80, 81), Bracket(83, None)], r"gap before '83° or above'.*82\.\.82"),
        ([Bracket(None, 79), Bracket(79, 81), Bracket(82, None)], r"'79° to 81°'.*overlaps '79° or below'"),
        ([Bracket(80, 81), Bracket(82, None)], r"no lower tail.*'80° to 81°'"),
        ([Bracket(None, 79), Bracket(80, 81)], r"no upper tail.*'80° to 81°'"),
        ([Bracket(None, 79), Bracket(80, None), Bracket(82, None)], r"'82° or above'.*overlaps '80° or above'"),
        ([Bracket(None, 79)], "at least"),
    ],
)
def test_it_names_the_bracket_that_breaks_the_ladder(brackets, message):
    with pytest.raises(LadderError, match=message):
        check_ladder(brackets)
    with pytest.raises(LadderError):
        bracket_probabilities(Normal(80, 2), brackets)


def test_outcomes_mark_the_bracket_of_the_settled_high():
    assert bracket_outcomes(BRACKETS, 79) == [1, 0, 0, 0, 0, 0]
    assert bracket_outcomes(BRACKETS, 83) == [0, 0, 1, 0, 0, 0]
    assert bracket_outcomes(BRACKETS, 101) == [0, 0, 0, 0, 0, 1]


def test_a_fractional_running_maximum_keeps_the_bracket_it_rounds_into():
    # 84.3 so far: the high may still be 84.3 to 84.49, which reports 84, so {84, 85} stays open.
    probabilities = bracket_probabilities(Normal(83, 2), BRACKETS, running_max=84.3)
    assert probabilities[:3] == [0.0, 0.0, 0.0] and probabilities[3] > 0.5
    whole = [Bracket(None, 83), Bracket(84, 84), Bracket(85, None)]
    assert bracket_probabilities(Normal(83, 2), whole, running_max=84.3)[1] > 0.0
    assert bracket_probabilities(Normal(83, 2), whole, running_max=84.5)[1] == 0.0


def test_a_running_maximum_far_above_the_forecast_gives_a_clean_answer():
    probabilities = bracket_probabilities(Normal(70, 2), BRACKETS, running_max=120.0)
    assert probabilities == [0, 0, 0, 0, 0, 1]
    ensemble = bracket_probabilities(Ensemble((70.0, 71.0)), BRACKETS, running_max=85.2)
    assert ensemble == [0, 0, 0, 1, 0, 0]


@st.composite
def ladders(draw):
    start = draw(st.integers(-30, 110))
    widths = draw(st.lists(st.integers(1, 3), max_size=8))
    brackets, low = [Bracket(None, start - 1)], start
    for width in widths:
        brackets.append(Bracket(low, low + width - 1))
        low += width
    brackets.append(Bracket(low, None))
    return brackets


centres = st.floats(-40, 130)
sigmas = st.floats(0.3, 25)


@st.composite
def forecasts(draw) -> Distribution:
    kind = draw(st.sampled_from(["normal", "mixture", "ensemble", "dressed"]))
    if kind == "normal":
        return Normal(draw(centres), draw(sigmas))
    if kind == "mixture":
        weight = draw(st.floats(0.0, 1.0))
        return Mixture((weight, 1 - weight), (Normal(draw(centres), draw(sigmas)), Normal(draw(centres), draw(sigmas))))
    members = tuple(draw(st.lists(centres, min_size=1, max_size=20)))
    return Ensemble(members, kernel_sigma=draw(sigmas) if kind == "dressed" else None)


def cumulative(probabilities):
    return list(itertools.accumulate(probabilities))


@settings(deadline=None)
@given(forecasts(), ladders(), st.none() | st.floats(-40, 130))
def test_probabilities_of_a_ladder_are_a_distribution(forecast, ladder, running_max):
    probabilities = bracket_probabilities(forecast, ladder, running_max=running_max)
    assert len(probabilities) == len(ladder)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-9)


@settings(deadline=None)
@given(centres, sigmas, st.floats(0.0, 30.0), ladders())
def test_shifting_the_forecast_up_moves_mass_to_higher_brackets(mu, sigma, shift, ladder):
    lower = cumulative(bracket_probabilities(Normal(mu, sigma), ladder))
    higher = cumulative(bracket_probabilities(Normal(mu + shift, sigma), ladder))
    assert all(h <= low + 1e-12 for h, low in zip(higher, lower, strict=True))


@settings(deadline=None)
@given(forecasts(), ladders(), st.floats(-40, 130))
def test_a_running_maximum_zeroes_every_bracket_below_it_and_never_raises_a_tail_below(forecast, ladder, running_max):
    before = bracket_probabilities(forecast, ladder)
    after = bracket_probabilities(forecast, ladder, running_max=running_max)
    for bracket, probability in zip(ladder, after, strict=True):
        if bracket.continuous_edges()[1] <= running_max:  # entirely below: every value rounding into it is < m
            assert probability == 0.0
    # P(X in the brackets up to k) can only fall once X ≥ running_max is known.
    assert all(a <= b + 1e-9 for a, b in zip(cumulative(after), cumulative(before), strict=True))
