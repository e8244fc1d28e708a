from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markets.brackets import (
    Bracket,
    BracketError,
    bracket_of,
    brackets_from_tickers,
    from_strikes,
    from_subtitle,
    ladder_centre,
)


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


def test_brackets_read_from_tickers_when_a_payload_has_no_strikes():
    tickers = [f"KXHIGHLAX-25JAN05-{s}" for s in ("T66", "B66.5", "B68.5", "B70.5", "B72.5", "T73")]
    assert brackets_from_tickers(tickers) == {
        tickers[0]: Bracket(None, 65),
        tickers[1]: Bracket(66, 67),
        tickers[2]: Bracket(68, 69),
        tickers[3]: Bracket(70, 71),
        tickers[4]: Bracket(72, 73),
        tickers[5]: Bracket(74, None),
    }
    # The same ladder from strikes, as a full payload states it.
    assert list(brackets_from_tickers(tickers).values()) == [
        from_strikes("less", None, Decimal(66)),
        from_strikes("between", Decimal(66), Decimal(67)),
        from_strikes("between", Decimal(68), Decimal(69)),
        from_strikes("between", Decimal(70), Decimal(71)),
        from_strikes("between", Decimal(72), Decimal(73)),
        from_strikes("greater", Decimal(73), None),
    ]


@pytest.mark.parametrize(
    ("suffixes", "message"),
    [
        (("T66", "B66.5", "B68.5"), "two tails"),
        (("T66", "B66.5", "T67", "T80"), "two tails"),
        (("T70", "B66.5", "T73"), "do not bound"),
        (("T66", "B66.5", "X9", "T73"), "no B<strike>"),
        (("T66", "B66.7", "T73"), "not a whole degree"),
        (("T66", "B66.5", "B70.5", "B72.5", "T73"), "no market covers"),
    ],
)
def test_tickers_that_do_not_spell_a_ladder_are_errors(suffixes, message):
    with pytest.raises(BracketError, match=message):
        brackets_from_tickers([f"KXHIGHNY-25JAN05-{s}" for s in suffixes])


def test_the_ladder_centre_is_the_middle_of_the_bounded_brackets():
    ladder = [Bracket(None, 65), Bracket(66, 67), Bracket(68, 69), Bracket(70, 71), Bracket(72, 73), Bracket(74, None)]
    assert ladder_centre(ladder) == 69.5  # (65.5 + 73.5) / 2
    assert ladder_centre([Bracket(None, 79), Bracket(80, None)]) == 79.5
    assert ladder_centre([Bracket(None, 79)]) is None
