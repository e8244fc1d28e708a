from decimal import Decimal

import pytest

from markets.schemas.enums import BookSide, TimeInForce
from trading.decide import decide
from trading.decisions import Holding, Portfolio, WorkingOrder
from trading.fees import FeeSchedule
from trading.limits import Limits, Sizing, TradingStatus
from trading.strategies import STRATEGIES, UnknownStrategy, strategy_named
from trading.tests.core import DAY, NOW, event, quote, snapshot

FAIR = [0.10, 0.30, 0.40, 0.20]
SIZING = Sizing(min_edge=Decimal("0.03"), kelly_fraction=Decimal("0.25"), market_shrinkage=Decimal(0))


def test_model_taker_takes_where_the_edge_clears_fees_and_says_why_it_passes_the_rest():
    # The model thinks bracket 2 is worth 0.40 and it is offered at 0.30: 10¢ less 1.5¢ fee.
    quotes = [quote("0.08", "0.11"), quote("0.29", "0.32"), quote("0.28", "0.30"), quote("0.18", "0.21")]
    decision = decide(snapshot(event(quotes, FAIR, FAIR)), strategy_named("model-taker", sizing=SIZING))
    (intent,) = decision.intents
    assert (intent.ticker, intent.side, intent.price) == ("KXHIGHNY-25JAN10-2", BookSide.BID, Decimal("0.30"))
    assert intent.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL and not intent.post_only
    assert intent.expected_value is not None and intent.expected_value >= Decimal("0.03")
    assert intent.count == 10  # Kelly wants more; the order limit is 10 contracts
    assert "max order 10 contracts" in intent.reason
    assert "below the 3.0¢ edge" in " ".join(decision.passed("KXHIGHNY-25JAN10-1"))


def test_model_taker_buys_no_when_yes_is_overpriced():
    quotes = [quote("0.30", "0.33"), quote("0.29", "0.32"), quote("0.28", "0.41"), quote("0.18", "0.21")]
    decision = decide(snapshot(event(quotes, FAIR, FAIR)), strategy_named("model-taker", sizing=SIZING))
    no_bracket_0 = [i for i in decision.intents if i.ticker.endswith("-0")]
    assert no_bracket_0 and no_bracket_0[0].side is BookSide.ASK  # sells YES at 0.30 = buys NO at 0.70
    assert no_bracket_0[0].price == Decimal("0.30") and no_bracket_0[0].own_price == Decimal("0.70")


def test_shrinking_toward_the_market_removes_an_edge_the_market_disagrees_with():
    quotes = [quote("0.08", "0.11"), quote("0.29", "0.32"), quote("0.28", "0.30"), quote("0.18", "0.21")]
    market = [0.10, 0.31, 0.29, 0.20]
    half = Sizing(min_edge=Decimal("0.03"), kelly_fraction=Decimal("0.25"), market_shrinkage=Decimal(1))
    decision = decide(snapshot(event(quotes, FAIR, market)), strategy_named("model-taker", sizing=half))
    assert not decision.intents


def test_no_model_forecast_means_no_model_trade_with_the_reason():
    quotes = [quote("0.08", "0.11")] * 4
    decision = decide(snapshot(event(quotes)), strategy_named("model-taker"))
    assert not decision.intents
    assert decision.passed("KXHIGHNY-25JAN10-0") == ["no model forecast for this event"]


def test_an_unknown_fee_type_refuses_to_trade():
    quotes = [quote("0.08", "0.11"), quote("0.29", "0.32"), quote("0.28", "0.30"), quote("0.18", "0.21")]
    odd = event(quotes, FAIR, FAIR, fees=FeeSchedule("flat", Decimal(1)))
    decision = decide(snapshot(odd), strategy_named("model-taker", sizing=SIZING))
    assert not decision.intents
    assert "refusing to trade rather than guess" in decision.passed("KXHIGHNY-25JAN10-2")[0]


def test_model_maker_rests_post_only_bids_below_fair_value_on_both_sides():
    quotes = [quote("0.05", "0.15"), quote("0.20", "0.40"), quote("0.30", "0.50"), quote("0.10", "0.30")]
    maker = strategy_named("model-maker", sizing=SIZING, margin=Decimal("0.02"))
    decision = decide(snapshot(event(quotes, FAIR, FAIR)), maker)
    assert decision.intents and all(
        i.post_only and i.time_in_force is TimeInForce.GOOD_TILL_CANCELED for i in decision.intents
    )
    bracket_2 = {i.side: i.price for i in decision.intents if i.ticker.endswith("-2")}
    assert bracket_2[BookSide.BID] == Decimal("0.38")  # fair 0.40 - 0.02
    assert bracket_2[BookSide.ASK] == Decimal("0.42")  # NO fair 0.60 - 0.02 = 0.58, i.e. YES ask at 0.42


def test_model_maker_never_crosses_the_book():
    quotes = [quote("0.05", "0.15"), quote("0.20", "0.40"), quote("0.30", "0.33"), quote("0.10", "0.30")]
    decision = decide(snapshot(event(quotes, FAIR, FAIR)), strategy_named("model-maker", sizing=SIZING))
    bid = next(i for i in decision.intents if i.ticker.endswith("-2") and i.side is BookSide.BID)
    assert bid.price == Decimal("0.32")  # one tick under the 0.33 ask, not 0.38


def test_model_maker_keeps_a_working_quote_that_is_still_right_and_cancels_the_rest():
    quotes = [quote("0.05", "0.15"), quote("0.20", "0.40"), quote("0.30", "0.50"), quote("0.10", "0.30")]
    maker = strategy_named("model-maker", sizing=SIZING)
    first = decide(snapshot(event(quotes, FAIR, FAIR)), maker)
    kept = first.intents[0]
    stale = WorkingOrder("old", "KXHIGHNY-25JAN10-3", "KXHIGHNY-25JAN10", "New York", DAY, BookSide.BID,
                         Decimal("0.01"), Decimal(5), True, NOW, maker.name)  # fmt: skip
    same = WorkingOrder(kept.client_order_id, kept.ticker, kept.event_ticker, "New York", DAY, kept.side,
                        kept.price, kept.count, True, NOW, maker.name)  # fmt: skip
    again = decide(
        snapshot(event(quotes, FAIR, FAIR), portfolio=Portfolio(Decimal(1000), working=(same, stale))), maker
    )
    assert "old" in again.cancels and kept.client_order_id not in again.cancels
    assert all((i.ticker, i.side, i.price) != (kept.ticker, kept.side, kept.price) for i in again.intents)


def test_bracket_arb_buys_every_yes_when_the_set_costs_less_than_a_dollar_after_fees():
    quotes = [quote("0.05", "0.08"), quote("0.20", "0.25"), quote("0.30", "0.35"), quote("0.20", "0.24")]
    decision = decide(snapshot(event(quotes)), strategy_named("bracket-arb"))
    assert len(decision.intents) == 4 and {i.side for i in decision.intents} == {BookSide.BID}
    assert {i.count for i in decision.intents} == {Decimal(10)}


def test_bracket_arb_passes_a_set_that_costs_a_dollar_or_more():
    quotes = [quote("0.05", "0.10"), quote("0.20", "0.30"), quote("0.30", "0.40"), quote("0.18", "0.25")]
    decision = decide(snapshot(event(quotes)), strategy_named("bracket-arb"))
    assert not decision.intents
    assert "below the 2.0¢ edge" in decision.passed("KXHIGHNY-25JAN10-0")[0]


def test_longshot_no_fades_cheap_yes_and_not_the_favourite():
    quotes = [quote("0.07", "0.09"), quote("0.29", "0.32"), quote("0.40", "0.45"), quote("0.09", "0.12")]
    limits = Limits(max_price=Decimal("0.99"))
    decision = decide(snapshot(event(quotes), limits=limits), strategy_named("longshot-no"))
    assert sorted(i.ticker[-1] for i in decision.intents) == ["0", "3"]
    assert all(i.side is BookSide.ASK for i in decision.intents)
    assert "above the 10.0¢ longshot line" in decision.passed("KXHIGHNY-25JAN10-2")[0]


def test_longshot_yes_buys_cheap_yes_blindly_and_never_twice():
    quotes = [quote("0.07", "0.09"), quote("0.29", "0.32"), quote("0.40", "0.45"), quote("0.09", "0.12")]
    held = Holding("KXHIGHNY-25JAN10-0", "KXHIGHNY-25JAN10", "New York", DAY, yes=Decimal(10), cost=Decimal("0.9"))
    decision = decide(
        snapshot(event(quotes), portfolio=Portfolio(Decimal(1000), (held,))), strategy_named("longshot-yes")
    )
    assert [i.ticker[-1] for i in decision.intents] == ["3"]
    assert decision.passed("KXHIGHNY-25JAN10-0") == ["already holding YES"]


def test_every_intent_gets_a_deterministic_client_order_id():
    quotes = [quote("0.07", "0.09"), quote("0.29", "0.32"), quote("0.40", "0.45"), quote("0.09", "0.12")]
    one = decide(snapshot(event(quotes)), strategy_named("longshot-yes"))
    two = decide(snapshot(event(quotes)), strategy_named("longshot-yes"))
    assert [i.client_order_id for i in one.intents] == [i.client_order_id for i in two.intents]
    assert len({i.client_order_id for i in one.intents}) == len(one.intents) and all(one.intents)


def test_a_halted_book_places_nothing_and_says_so():
    quotes = [quote("0.07", "0.09"), quote("0.29", "0.32"), quote("0.40", "0.45"), quote("0.09", "0.12")]
    decision = decide(snapshot(event(quotes), status=TradingStatus.HALTED), strategy_named("longshot-yes"))
    assert not decision.intents
    assert decision.passed("KXHIGHNY-25JAN10-0") == ["control: YES at 9.0¢, bought blindly; risk: trading is halted"]


def test_strategies_are_found_by_name_only():
    assert set(STRATEGIES) == {"model-taker", "model-maker", "bracket-arb", "longshot-no", "longshot-yes"}
    with pytest.raises(UnknownStrategy, match="choose one of"):
        strategy_named("buy-everything")
