from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markets.brackets import Bracket, BracketError, bracket_of, from_strikes, from_subtitle


def test_brackets_from_kalshis_strikes():
    # Verbatim rungs of KXHIGHNY-26AUG02 as documented: T80 less, B80.5 between, T87 greater.
    assert from_strikes("less", None, Decimal(80)) == Bracket(None, 79)
    assert from_strikes("between", Decimal(80), Decimal(81)) == Bracket(80, 81)
    assert from_strikes("greater", Decimal(87), None) == Bracket(88, None)
    assert from_strikes("less_or_equal", None, Decimal(80)) == Bracket(None, 80)
    assert from_strikes("greater_or_equal", Decimal(87), None) == Bracket(87, None)


def test_the_cli_value_decides_membership():
    between = Bracket(80, 81)
    assert [between.contains(v) for v in (79, 80, 81, 82)] == [False, True, True, False]
    assert Bracket(None, 79).contains(79) and not Bracket(None, 79).contains(80)


def test_continuous_edges_are_half_degrees():
    assert Bracket(44, 45).continuous_edges() == (43.5, 45.5)
    assert Bracket(None, 79).continuous_edges() == (-math.inf, 79.5)
    assert Bracket(88, None).continuous_edges() == (87.5, math.inf)


@pytest.mark.parametrize(
    ("subtitle", "expected"),
    [
        ("44° to 45°", Bracket(44, 45)),
        ("-2° to 1°", Bracket(-2, 1)),
        ("-5° to -4°", Bracket(-5, -4)),
        ("80-81°", Bracket(80, 81)),
        ("80-81º", Bracket(80, 81)),
        ("86° or above", Bracket(86, None)),
        ("86° or higher", Bracket(86, None)),
        ("83° or below", Bracket(None, 83)),
        ("-3° or lower", Bracket(None, -3)),
        (">81°", Bracket(82, None)),  # 2021 design: "Will the high be over 81°?"
        ("<70º", Bracket(None, 69)),
    ],
)
def test_legacy_subtitles(subtitle, expected):
    assert from_subtitle(subtitle) == expected


@pytest.mark.parametrize("subtitle", ["81°", "between 80 and 81", "81° to", "hot", ""])
def test_an_unreadable_subtitle_is_an_error_not_a_guess(subtitle):
    with pytest.raises(BracketError, match="cannot read"):
        from_subtitle(subtitle)


def test_strikes_win_over_the_subtitle_and_missing_ones_are_errors():
    assert bracket_of(strike_type="less", floor=None, cap=Decimal(63), subtitle="99° or above") == Bracket(None, 62)
    assert bracket_of(strike_type=None, floor=None, cap=None, subtitle="62° or below") == Bracket(None, 62)
    with pytest.raises(BracketError, match="needs cap_strike"):
        from_strikes("less", Decimal(3), None)
    with pytest.raises(BracketError, match="not a temperature bracket"):
        from_strikes("functional", None, None)
    with pytest.raises(BracketError, match="not a whole degree"):
        from_strikes("between", Decimal("80.5"), Decimal(81))
    with pytest.raises(BracketError, match="neither"):
        bracket_of(strike_type=None, floor=None, cap=None, subtitle=None)


@given(st.integers(-40, 120), st.integers(0, 5))
def test_a_strike_ladder_partitions_the_integers(low_cap, width):
    """less(cap) + between rungs + greater(last) cover every value exactly once."""
    rungs = [from_strikes("less", None, Decimal(low_cap))]
    floor = low_cap
    for _ in range(width):
        rungs.append(from_strikes("between", Decimal(floor), Decimal(floor + 1)))
        floor += 2
    rungs.append(from_strikes("greater", Decimal(floor - 1), None))
    for value in range(low_cap - 10, floor + 10):
        assert sum(r.contains(value) for r in rungs) == 1, value
