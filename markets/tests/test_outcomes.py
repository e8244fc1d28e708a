"""How markets and events settled: one reading of Kalshi's results and settled values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from markets.outcomes import EventOutcome, Resolution, event_outcome, market_payout, resolution


@dataclass(frozen=True)
class Settled:
    ticker: str
    result: str
    expiration_value: str


@pytest.mark.parametrize(
    ("result", "settlement_value", "payout"),
    [
        ("yes", None, Decimal(1)),
        ("yes", Decimal("0.40"), Decimal(1)),  # a binary result pays in full whatever else is reported
        ("no", Decimal(1), Decimal(0)),
        ("void", Decimal("0.37"), Decimal("0.37")),
        ("scalar", Decimal("0.62"), Decimal("0.62")),
        ("void", None, None),  # not reported yet: nothing settles on a guess
        ("", Decimal(1), None),
        ("all_yes", None, None),  # not a result Kalshi documents
    ],
)
def test_a_market_pays_per_yes_contract_by_its_result(result, settlement_value, payout):
    assert market_payout(result, settlement_value) == payout


def test_results_read_as_resolutions():
    assert [resolution(r) for r in ("yes", "no", "void", "scalar", "")] == [
        Resolution.YES,
        Resolution.NO,
        Resolution.VOID,
        Resolution.SCALAR,
        Resolution.UNDETERMINED,
    ]


def test_an_event_has_its_one_yes_market_as_winner_and_the_high_its_markets_settled_on():
    markets = [
        Settled("E-T44", "no", "45.00"),
        Settled("E-B44.5", "yes", "45.00"),
        Settled("E-T45", "no", "45. Although the Daily Climate Report was not finalized"),
    ]
    assert event_outcome(markets) == EventOutcome("E-B44.5", Decimal("45.00"))


def test_without_exactly_one_yes_there_is_no_winner():
    assert event_outcome([Settled("A", "yes", "45"), Settled("B", "yes", "45")]).winner is None
    assert event_outcome([Settled("A", "no", "45"), Settled("B", "", "")]).winner is None


def test_disagreeing_markets_settle_on_the_most_common_value_and_the_conflict_is_named():
    markets = [
        Settled("A", "no", "46.00"),
        Settled("B", "yes", "45.00"),
        Settled("C", "no", "45.00"),
        Settled("D", "", "47.00"),  # no result yet: its value does not count
    ]
    outcome = event_outcome(markets)
    assert (outcome.settled_high, outcome.conflict) == (Decimal(45), (Decimal(45), Decimal(46)))


def test_an_unsettled_event_has_no_outcome():
    assert event_outcome([Settled("A", "", ""), Settled("B", "", "50.00")]) == EventOutcome(None, None)
    assert event_outcome([]) == EventOutcome(None, None)
