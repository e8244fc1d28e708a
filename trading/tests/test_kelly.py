import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.kelly import Bet, kelly_stakes


def test_one_bet_gets_the_textbook_fraction():
    # p = 0.6, cost 0.5: f = (p - c) / (1 - c) = 0.2
    (stake,) = kelly_stakes([0.6, 0.4], [Bet(frozenset({0}), 0.5)], bankroll=1000)
    assert stake == pytest.approx(200, rel=1e-6)


def test_a_bet_without_an_edge_gets_nothing():
    assert kelly_stakes([0.4, 0.6], [Bet(frozenset({0}), 0.5)], bankroll=1000) == [0.0]


def test_yes_bets_on_exclusive_brackets_match_the_horse_race_solution():
    # Three outcomes; YES on 0 and 1. Known solution (Smoczynski-Tomkins): R = (1 - p0 - p1) / (1 - c0 - c1),
    # stake_i = p_i - c_i·R for the bets in the optimal set.
    p, c = [0.5, 0.3, 0.2], [0.4, 0.25]
    stakes = kelly_stakes(p, [Bet(frozenset({0}), c[0]), Bet(frozenset({1}), c[1])], bankroll=1.0)
    reserve = (1 - p[0] - p[1]) / (1 - c[0] - c[1])
    assert stakes == pytest.approx([p[0] - c[0] * reserve, p[1] - c[1] * reserve], abs=1e-7)


def growth(p, bets, stakes):
    return sum(
        pj * math.log(1 + sum(s * ((1 / b.cost if j in b.pays else 0) - 1) for s, b in zip(stakes, bets, strict=True)))
        for j, pj in enumerate(p)
    )


def test_sized_together_the_brackets_grow_wealth_faster_than_sized_one_by_one():
    # Exclusive YES bets hedge each other (both lose only in outcome 2): sized alone, each is too small.
    p = [0.45, 0.45, 0.10]
    bets = [Bet(frozenset({0}), 0.35), Bet(frozenset({1}), 0.35)]
    alone = [kelly_stakes(p, [bet], bankroll=1.0)[0] for bet in bets]
    together = kelly_stakes(p, bets, bankroll=1.0)
    assert together != pytest.approx(alone)
    assert growth(p, bets, together) > growth(p, bets, alone)


def test_what_is_held_already_reduces_the_stake():
    p, bet = [0.6, 0.4], Bet(frozenset({0}), 0.5)
    fresh = kelly_stakes(p, [bet], bankroll=100)[0]
    holding = kelly_stakes(p, [bet], bankroll=100, held=[20.0, 0.0])[0]
    assert holding < fresh


def test_a_riskless_set_is_bounded_by_the_bankroll():
    # NO on both of two brackets of a three-outcome event at 0.6 each pays at least 1 in every outcome.
    bets = [Bet(frozenset({1, 2}), 0.6), Bet(frozenset({0, 2}), 0.6)]
    stakes = kelly_stakes([0.3, 0.3, 0.4], bets, bankroll=50)
    assert sum(stakes) <= 50 + 1e-9


probabilities = st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=2, max_size=7).map(
    lambda xs: [x / sum(xs) for x in xs]
)


@given(probabilities, st.lists(st.floats(min_value=0.02, max_value=0.98), min_size=1, max_size=4), st.data())
def test_stakes_are_never_negative_and_never_risk_ruin(p, costs, data):
    bets = [
        Bet(frozenset({data.draw(st.integers(0, len(p) - 1))}), cost)
        if i % 2
        else Bet(frozenset(range(len(p))) - {data.draw(st.integers(0, len(p) - 1))}, cost)
        for i, cost in enumerate(costs)
    ]
    bets = [b for b in bets if b.pays and len(b.pays) < len(p)]
    stakes = kelly_stakes(p, bets, bankroll=1.0)
    assert all(s >= 0 for s in stakes)
    assert sum(stakes) <= 1 + 1e-9
    for j in range(len(p)):
        wealth = 1 + sum(s * ((1 / b.cost if j in b.pays else 0) - 1) for s, b in zip(stakes, bets, strict=True))
        assert wealth > 0 and math.isfinite(wealth)
