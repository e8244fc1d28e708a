from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from backtesting.engine import BacktestSpec, History, quote_at, run_backtest
from backtesting.fills import ConservativeFills, NaiveFills
from backtesting.tape import to_micros
from backtesting.tests.worlds import TEN_AM, event, known_at, random_history, tape, utc
from markets.brackets import Bracket
from markets.schemas.enums import Side
from trading.limits import Limits, Sizing
from trading.strategies import strategy_named

DAY = date(2025, 1, 10)  # decided at 10:00 EST = 15:00Z


def golden_history():
    """Three brackets; the control buys YES under 20¢ on two of them at 15:00Z and both lose."""
    cheap = tape(
        ("2025-01-10T14:50:00", "0.12", 5, "yes"),  # the last ask lifted before the decision
        ("2025-01-10T14:55:00", "0.10", 3, "no"),  # the last bid hit before it (and the last trade)
        ("2025-01-10T15:00:00", "0.12", 9, "yes"),  # at the decision: seen by it, never filled from
        ("2025-01-10T15:02:00", "0.11", 4, "yes"),  # fills 4, at 12¢: never better than before the decision
        ("2025-01-10T15:05:00", "0.12", 3, "yes"),  # a sweep: one trade at its worst price, 13¢ ...
        ("2025-01-10T15:05:00", "0.13", 5, "yes"),  # ... above the limit, so no fill
        ("2025-01-10T15:10:00", "0.12", 10, "yes"),  # fills the other 6
        ("2025-01-10T15:20:00", "0.12", 10, "yes"),  # after the 15-minute window
    )
    middle = tape(("2025-01-10T14:10:00", "0.55", 10, "yes"), ("2025-01-10T14:30:00", "0.50", 10, "no"))
    tail = tape(("2025-01-10T14:40:00", "0.15", 2, "yes"))  # an ask of 15¢ that nobody lifts again
    return event(
        "KXHIGHNY-25JAN10",
        DAY,
        [
            ("KXHIGHNY-25JAN10-T40", Bracket(None, 39), cheap, Decimal(0)),
            ("KXHIGHNY-25JAN10-B40.5", Bracket(40, 41), middle, Decimal(1)),
            ("KXHIGHNY-25JAN10-T41", Bracket(42, None), tail, Decimal(0)),
        ],
    )


def spec(fills, strategy="longshot-yes", **params):
    chosen = strategy_named(strategy, **params)
    return BacktestSpec(
        decision_times=(TEN_AM,),
        bankroll=Decimal(100),
        limits=Limits(),
        fill_model=fills,
        strategy_for=lambda day, name: chosen,
    )


def test_golden_history_gives_exact_fills_fees_settlement_and_pnl():
    result = run_backtest(History((golden_history(),)), spec(ConservativeFills()))
    fills = [(f.ticker, f.bought, f.count, f.price, f.fee, f.filled_at) for f in result.fills]
    assert fills == [
        ("KXHIGHNY-25JAN10-T40", Side.YES, Decimal(4), Decimal("0.12"), Decimal("0.03"), utc("2025-01-10T15:02:00")),
        ("KXHIGHNY-25JAN10-T40", Side.YES, Decimal(6), Decimal("0.12"), Decimal("0.05"), utc("2025-01-10T15:10:00")),
    ]  # 0.07·10·0.12·0.88 = 0.0739 → $0.08 for the order, charged as its fills add to it
    (decision,) = result.decisions
    assert decision.at == utc("2025-01-10T15:00:00")
    assert [i.ticker for i in decision.intents] == ["KXHIGHNY-25JAN10-T40", "KXHIGHNY-25JAN10-T41"]
    assert decision.intents[0].price == Decimal("0.12")  # the ask seen at the decision (15:00's print included)
    assert "is not under 20.0¢" in " ".join(p.reason for p in decision.passes)
    assert result.final_cash == Decimal(100) - Decimal("1.20") - Decimal("0.08")  # both lost: nothing paid back
    assert result.equity == [(utc("2025-01-11T15:00:00"), Decimal("98.72"))]


def test_the_naive_model_fills_everything_at_the_last_trade_and_flatters():
    result = run_backtest(History((golden_history(),)), spec(NaiveFills()))
    fills = [(f.ticker, f.count, f.price, f.fee) for f in result.fills]
    assert fills == [
        ("KXHIGHNY-25JAN10-T40", Decimal(10), Decimal("0.12"), Decimal("0.08")),  # the last trade, all at once
        ("KXHIGHNY-25JAN10-T41", Decimal(10), Decimal("0.15"), Decimal("0.09")),  # nobody ever sold here again
    ]


def test_a_winning_position_is_paid_a_dollar_a_contract_when_the_result_is_known():
    golden = golden_history()
    cheap, middle, tail = golden.markets
    flipped = replace(golden, markets=(replace(cheap, payout=Decimal(1)), replace(middle, payout=Decimal(0)), tail))
    result = run_backtest(History((flipped,)), spec(ConservativeFills()))
    assert result.final_cash == Decimal(100) - Decimal("1.28") + Decimal(10)
    assert result.equity[-1] == (utc("2025-01-11T15:00:00"), Decimal("108.72"))


@pytest.mark.parametrize("strategy", ["model-taker", "model-maker", "longshot-no", "longshot-yes", "bracket-arb"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deleting_everything_after_a_decision_time_changes_no_decision(strategy, seed):
    history = random_history(seed)
    strategy_spec = spec(ConservativeFills(), strategy, sizing=Sizing(min_edge=Decimal("0.01")))
    full = run_backtest(history, strategy_spec)
    assert full.decisions
    for moment in sorted({d.at for d in full.decisions}):
        cut = run_backtest(known_at(history, moment, (TEN_AM,)), strategy_spec)
        assert [d for d in cut.decisions if d.at <= moment] == [d for d in full.decisions if d.at <= moment]


def test_a_side_is_priced_only_by_a_print_within_the_hour_and_a_crossed_older_side_is_dropped():
    at = to_micros(utc("2025-01-10T15:00:00"))
    old = tape(("2025-01-10T13:59:00", "0.30", 5, "yes"), ("2025-01-10T14:30:00", "0.25", 5, "no"))
    assert (quote_at(old, at).yes_ask, quote_at(old, at).yes_bid) == (None, Decimal("0.25"))
    crossed = tape(("2025-01-10T14:10:00", "0.30", 5, "yes"), ("2025-01-10T14:50:00", "0.35", 5, "no"))
    assert (quote_at(crossed, at).yes_ask, quote_at(crossed, at).yes_bid) == (None, Decimal("0.35"))
