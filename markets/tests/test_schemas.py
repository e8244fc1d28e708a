from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from markets.brackets import Bracket
from markets.errors import BadResponse
from markets.schemas import (
    BookSide,
    FeeType,
    MarketResult,
    MarketStatus,
    OrderStatus,
    SelfTradePrevention,
    Side,
    StrikeType,
    TimeInForce,
    decrease_body,
    parse_balance,
    parse_candlestick,
    parse_event,
    parse_fill,
    parse_historical_cutoff,
    parse_market,
    parse_order,
    parse_order_ack,
    parse_orderbook,
    parse_positions,
    parse_series,
    parse_settlement,
    parse_trade,
    price_on_tick,
)
from markets.tests import kalshi_payloads as payloads
from markets.tests.kalshi_payloads import DROP, TICKER, amend_request, order_request
from trading.fees import FeeError, FeeSchedule

D = Decimal


def test_it_parses_a_fixed_point_market():
    market = parse_market(payloads.market())
    assert market.ticker == TICKER
    assert market.status is MarketStatus.ACTIVE
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask) == (
        D("0.31"),
        D("0.33"),
        D("0.67"),
        D("0.69"),
    )
    assert market.last_price == D("0.32")
    assert (market.volume, market.volume_24h, market.open_interest) == (D(1520), D("310.5"), D(875))
    assert market.close_time == datetime(2026, 3, 3, 4, 59, tzinfo=UTC)
    assert market.strike_type is StrikeType.BETWEEN
    assert (market.floor_strike, market.cap_strike) == (D(44), D(45))
    assert market.result is MarketResult.UNDETERMINED
    assert market.settlement_value is None
    assert market.bracket() == Bracket(44, 45)


def test_it_parses_a_legacy_cents_market():
    market = parse_market(payloads.legacy_market())
    assert (market.yes_bid, market.yes_ask, market.last_price) == (D("0.03"), D("0.05"), D("0.04"))
    assert market.volume == D(136)
    assert market.volume_24h is None
    assert market.status is MarketStatus.FINALIZED
    assert market.result is MarketResult.NO
    assert market.settlement_value == D(0)
    assert market.expiration_value == "86.00"
    assert market.bracket() == Bracket(None, 83)


def test_a_settled_market_carries_its_value_in_dollars():
    market = parse_market(
        payloads.market(
            status="finalized", result="yes", settlement_value_dollars="1.0000", settlement_ts="2026-03-03T15:00:00Z"
        )
    )
    assert market.settlement_value == D(1)
    assert market.settled_at == datetime(2026, 3, 3, 15, tzinfo=UTC)


def test_a_market_without_strikes_takes_its_bracket_from_the_subtitle():
    market = parse_market(payloads.legacy_market(strike_type=DROP, cap_strike=DROP, subtitle="80° to 81°"))
    assert market.bracket() == Bracket(80, 81)


def test_unknown_extra_fields_are_ignored():
    assert parse_market(payloads.market(brand_new={"a": 1})).ticker == TICKER


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": DROP}, "Market 'KXHIGHNY-26MAR02-B44.5': field 'status': missing"),
        (  # a result decides what a settlement pays: an unknown one is refused, unlike a new status
            {"result": "half"},
            "Market 'KXHIGHNY-26MAR02-B44.5': field 'result': unknown value 'half'",
        ),
        ({"close_time": None}, "Market 'KXHIGHNY-26MAR02-B44.5': field 'close_time': is null"),
        ({"can_close_early": "yes"}, "field 'can_close_early': expected true or false, got a string"),
        ({"settlement_timer_seconds": True}, "field 'settlement_timer_seconds': expected an integer, got True"),
        ({"yes_bid_dollars": 0.31}, "Market 'KXHIGHNY-26MAR02-B44.5': yes_bid_dollars: expected a fixed-point"),
        ({"open_time": "yesterday"}, "open_time: 'yesterday' is not an RFC 3339 timestamp"),
        ({"floor_strike": "forty-four"}, "floor_strike: 'forty-four' is not a number"),
    ],
)
def test_bad_markets_name_object_id_and_field(overrides, message):
    with pytest.raises(BadResponse, match=re.escape(message)):
        parse_market(payloads.market(**overrides))


def test_a_non_object_is_a_bad_response():
    with pytest.raises(BadResponse, match="Market: expected a JSON object, got an array"):
        parse_market([1, 2])


def test_it_parses_an_event_with_nested_or_sibling_markets():
    nested = parse_event(payloads.event(markets=[payloads.market()]))
    assert [m.ticker for m in nested.markets] == [TICKER]
    beside = parse_event(payloads.event(), markets=[payloads.market()])
    assert [m.ticker for m in beside.markets] == [TICKER]
    assert beside.mutually_exclusive is True
    assert beside.strike_date == datetime(2026, 3, 3, 4, 59, tzinfo=UTC)


def test_an_event_fee_override_and_a_market_fee_waiver_are_read_and_absent_means_none():
    plain = parse_event(payloads.event(markets=[payloads.market()]))
    assert (plain.fee_type_override, plain.fee_multiplier_override) == ("", None)
    assert plain.markets[0].fee_waiver_expiration_time is None
    overridden = parse_event(
        payloads.event(fee_type_override="quadratic", fee_multiplier_override=0.5),
        markets=[payloads.market(fee_waiver_expiration_time="2026-03-02T15:00:00Z")],
    )
    assert (overridden.fee_type_override, overridden.fee_multiplier_override) == ("quadratic", Decimal("0.5"))
    assert overridden.markets[0].fee_waiver_expiration_time == datetime(2026, 3, 2, 15, tzinfo=UTC)
    cleared = parse_event(payloads.event(fee_type_override=None, fee_multiplier_override=None))
    assert (cleared.fee_type_override, cleared.fee_multiplier_override) == ("", None)


def test_a_bad_nested_market_names_the_market():
    with pytest.raises(BadResponse, match=r"Market 'KXHIGHNY-26MAR02-B44.5': field 'event_ticker': missing"):
        parse_event(payloads.event(markets=[payloads.market(event_ticker=DROP)]))


def test_it_parses_a_series_with_its_fee_schedule():
    series = parse_series(payloads.series(fee_multiplier=0.5, tags=None))
    assert series.fee_type is FeeType.QUADRATIC
    assert series.fee_multiplier == D("0.5")
    assert series.tags == ()
    assert series.settlement_sources[0].name == "National Weather Service"


def test_a_new_market_status_is_kept_as_text_and_the_rest_of_the_event_still_parses():
    event = parse_event(payloads.event(markets=[payloads.market(), payloads.market(ticker="B", status="halted")]))
    assert [m.status for m in event.markets] == [MarketStatus.ACTIVE, "halted"]
    with pytest.raises(BadResponse, match=r"Market 'B': field 'status': missing"):
        parse_market(payloads.market(ticker="B", status=DROP))


def test_a_series_without_a_fee_type_is_refused():
    with pytest.raises(BadResponse, match="Series 'KXHIGHNY': field 'fee_type': missing"):
        parse_series(payloads.series(fee_type=DROP))


def test_a_new_fee_type_parses_as_text_and_trading_refuses_to_price_it():
    series = parse_series(payloads.series(fee_type="margin_market_maker_program_fees"))
    assert series.fee_type == "margin_market_maker_program_fees"
    schedule = FeeSchedule(series.fee_type, series.fee_multiplier)
    with pytest.raises(FeeError, match="margin_market_maker_program_fees"):
        schedule.rate(taker=True, at=datetime(2026, 3, 2, tzinfo=UTC))
    with pytest.raises(FeeError, match="quadratic_with_combo_maker_fees"):
        FeeSchedule(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, D(1)).rate(taker=True, at=datetime(2026, 3, 2, tzinfo=UTC))


def test_it_parses_fixed_point_and_legacy_trades():
    fixed = parse_trade(payloads.trade())
    legacy = parse_trade(
        payloads.trade(
            count_fp=DROP, yes_price_dollars=DROP, no_price_dollars=DROP, count=12, yes_price=32, no_price=68
        )
    )
    assert fixed == legacy
    assert fixed.count == D(12)
    assert fixed.yes_price == D("0.32")
    assert fixed.taker_side is Side.YES


def test_a_trade_without_a_price_is_refused():
    with pytest.raises(BadResponse, match=r"Trade '7d0c6d4e-trade-1': field 'no_price_dollars': missing"):
        parse_trade(payloads.trade(no_price_dollars=DROP))


def test_orderbook_levels_are_sorted_best_first_whatever_the_payload_order():
    book = parse_orderbook(
        payloads.orderbook_fp(
            yes=[["0.2900", "5.00"], ["0.3100", "13.00"], ["0.3000", "2.50"]],
            no=[["0.6500", "1.00"], ["0.6700", "40.00"]],
        ),
        ticker=TICKER,
    )
    assert book.yes_bids == ((D("0.31"), D(13)), (D("0.30"), D("2.5")), (D("0.29"), D(5)))
    assert book.no_bids == ((D("0.67"), D(40)), (D("0.65"), D(1)))
    assert (book.best_yes_bid, book.best_no_bid) == (D("0.31"), D("0.67"))
    assert book.best_yes_ask == D("0.33")
    assert book.best_no_ask == D("0.69")


def test_an_empty_side_has_no_best_price():
    book = parse_orderbook({"orderbook_fp": {"yes_dollars": [["0.0100", "1.00"]], "no_dollars": None}}, ticker=TICKER)
    assert book.no_bids == ()
    assert book.best_no_bid is None
    assert book.best_yes_ask is None
    assert book.best_no_ask == D("0.99")


def test_it_parses_the_legacy_cents_orderbook():
    book = parse_orderbook({"orderbook": {"yes": [[30, 2], [31, 13]], "no": [[67, 40]]}}, ticker=TICKER)
    assert book.yes_bids == ((D("0.31"), D(13)), (D("0.30"), D(2)))
    assert book.best_yes_ask == D("0.33")


def test_a_malformed_level_names_the_side_and_index():
    with pytest.raises(BadResponse, match=r"Orderbook 'KXHIGHNY-26MAR02-B44.5': field 'no_dollars\[1\]'"):
        parse_orderbook(payloads.orderbook_fp(yes=[], no=[["0.6700", "1.00"], ["0.6500"]]), ticker=TICKER)


def test_a_response_without_a_book_is_refused():
    with pytest.raises(BadResponse, match="field 'orderbook_fp': missing"):
        parse_orderbook({"something_else": {}}, ticker=TICKER)


def test_it_parses_live_candlesticks_with_null_trade_prices():
    price = {"open_dollars": None, "low_dollars": None, "high_dollars": None, "close_dollars": None}
    candle = parse_candlestick(payloads.candlestick(price=price))
    assert candle.end_period_ts == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert candle.yes_bid.close == D("0.31")
    assert candle.yes_ask.high == D("0.34")
    assert candle.price.open is None
    assert candle.price_mean is None
    assert (candle.volume, candle.open_interest) == (D(40), D(875))


def test_it_parses_historical_and_legacy_candlesticks():
    historical = parse_candlestick(
        {
            "end_period_ts": 1772463600,
            "yes_bid": {"open": "0.3000", "low": "0.2900", "high": "0.3200", "close": "0.3100"},
            "yes_ask": {"open": "0.3200", "low": "0.3100", "high": "0.3400", "close": "0.3300"},
            "price": {"open": "0.3100", "low": None, "high": None, "close": "0.3200", "mean": None, "previous": None},
            "volume": "40.00",
            "open_interest": "875.00",
        }
    )
    legacy = parse_candlestick(
        {
            "end_period_ts": 1772463600,
            "yes_bid": {"open": 30, "low": 29, "high": 32, "close": 31},
            "yes_ask": {"open": 32, "low": 31, "high": 34, "close": 33},
            "price": {"open": 31, "low": None, "high": None, "close": 32},
            "volume": 40,
            "open_interest": 875,
        }
    )
    assert historical == legacy
    assert historical.price.close == D("0.32")


def test_the_historical_cutoff_is_aware_utc_from_text_or_seconds():
    cutoff = parse_historical_cutoff(
        {
            "market_settled_ts": "2025-12-01T00:00:00Z",
            "trades_created_ts": 1764547200,
            "orders_updated_ts": "2025-12-01T00:00:00+00:00",
        }
    )
    assert cutoff.market_settled_ts == cutoff.trades_created_ts == cutoff.orders_updated_ts
    assert cutoff.trades_created_ts.tzinfo is UTC


def test_balance_cents_become_dollars():
    balance = parse_balance({"balance": 123456, "portfolio_value": 7890, "updated_ts": 1772463600})
    assert (balance.balance, balance.portfolio_value) == (D("1234.56"), D("78.90"))
    assert balance.updated_at == datetime(2026, 3, 2, 15, tzinfo=UTC)


def test_it_parses_an_order_with_fees_and_counts():
    order = parse_order(payloads.order())
    assert order.status is OrderStatus.RESTING
    assert (order.yes_price, order.no_price) == (D("0.31"), D("0.69"))
    assert (order.fill_count, order.remaining_count, order.initial_count) == (D(2), D(8), D(10))
    assert order.fees == D("0.02")
    assert order.order_group_id is None
    assert order.expiration_time is None


def test_an_unknown_order_status_is_kept_as_text_not_a_failure():
    order = parse_order(payloads.order(status="pending"))
    assert order.status == "pending"
    assert not isinstance(order.status, OrderStatus)


def test_empty_strings_in_money_fields_mean_absent():
    """Production order responses carried "" beside the integer fields."""
    order = parse_order(payloads.order(taker_fill_cost_dollars="", maker_fill_cost_dollars=None, maker_fees_dollars=""))
    assert (order.taker_fill_cost, order.maker_fill_cost, order.maker_fees) == (D(0), D(0), D(0))


@pytest.mark.parametrize(
    ("field", "value"), [("yes_price_dollars", "0.3x"), ("yes_price_dollars", 31), ("taker_fill_cost_dollars", "lots")]
)
def test_a_present_but_malformed_price_is_still_an_error_naming_field_and_order(field, value):
    with pytest.raises(BadResponse, match=rf"Order 'ord-1': .*{field}"):
        parse_order(payloads.order(**{field: value}))


def test_a_required_price_given_as_empty_text_is_missing():
    with pytest.raises(BadResponse, match=r"Order 'ord-1': field 'yes_price_dollars': missing"):
        parse_order(payloads.order(yes_price_dollars=""))


def test_it_parses_a_fill_with_its_fee():
    fill = parse_fill(payloads.fill(created_time=DROP, ts=1772463600))
    assert fill.fee_cost == D("0.02")
    assert fill.is_taker is True
    assert fill.created_time == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert fill.book_side is BookSide.BID


def test_a_fill_from_before_fees_were_reported_parses_with_the_fee_unknown():
    """Production fills of January 2026 carry no fee_cost: the page must still parse."""
    assert parse_fill(payloads.fill(fee_cost=DROP)).fee_cost is None
    assert parse_fill(payloads.fill(fee_cost="")).fee_cost is None
    with pytest.raises(BadResponse, match=r"Fill 'fill-1': .*fee_cost"):
        parse_fill(payloads.fill(fee_cost="2 cents"))


def test_settlement_revenue_cents_become_dollars():
    settlement = parse_settlement(payloads.settlement())
    assert settlement.revenue == D(10)
    assert settlement.value == D(1)
    assert settlement.yes_total_cost == D("3.1")
    assert settlement.fee_cost == D("0.15")
    assert settlement.market_result is MarketResult.YES


def test_it_parses_positions_with_negative_no_holdings():
    positions = parse_positions(
        {
            "market_positions": [
                {
                    "ticker": TICKER,
                    "total_traded_dollars": "6.2000",
                    "position_fp": "-10.00",
                    "market_exposure_dollars": "6.9000",
                    "realized_pnl_dollars": "-0.5000",
                    "resting_orders_count": 0,
                    "fees_paid_dollars": "0.1400",
                    "last_updated_ts": "2026-03-02T14:00:00Z",
                }
            ],
            "event_positions": None,
            "cursor": "",
        }
    )
    assert positions.market_positions[0].position == D(-10)
    assert positions.market_positions[0].realized_pnl == D("-0.5")
    assert positions.event_positions == ()


# --- what we send --------------------------------------------------------------------------


def test_an_order_body_is_v2_with_fixed_point_strings():
    assert order_request().to_json() == {
        "ticker": TICKER,
        "client_order_id": "kw-1",
        "side": "bid",
        "count": "10.00",
        "price": "0.3100",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
    }
    body = order_request(side=BookSide.ASK, price=D("0.685"), count=D("2.5")).to_json()
    assert (body["side"], body["price"], body["count"]) == ("ask", "0.6850", "2.50")


def test_optional_order_fields_are_sent_only_when_set():
    body = order_request(
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        self_trade_prevention=SelfTradePrevention.MAKER,
        post_only=True,
        reduce_only=True,
        order_group_id="grp-1",
        cancel_order_on_pause=True,
    ).to_json()
    assert body["time_in_force"] == "immediate_or_cancel"
    assert body["self_trade_prevention_type"] == "maker"
    assert body["post_only"] is body["reduce_only"] is body["cancel_order_on_pause"] is True
    assert body["order_group_id"] == "grp-1"
    expiring = order_request(expiration=datetime(2026, 3, 2, 15, tzinfo=UTC)).to_json()
    assert expiring["expiration_time"] == 1772463600  # Unix seconds


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"price": D(0)}, "strictly between 0 and 1"),
        ({"price": D(1)}, "strictly between 0 and 1"),
        ({"price": D("0.3105")}, "finer than Kalshi's smallest tick"),
        ({"price": 0.31}, "must be a Decimal"),
        ({"count": D(0)}, "count must be a positive Decimal"),
        ({"count": D("1.005")}, "steps of 0.01"),
        ({"client_order_id": ""}, "client_order_id is required"),
        ({"side": "yes"}, "side must be a BookSide"),
        ({"time_in_force": "gtc"}, "time_in_force must be a TimeInForce"),
        ({"expiration": datetime(2026, 3, 2, 15)}, "aware datetime"),
        ({"reduce_only": True}, "reduce_only is accepted only with immediate_or_cancel"),
        (
            {"time_in_force": TimeInForce.IMMEDIATE_OR_CANCEL, "expiration": datetime(2026, 3, 2, 15, tzinfo=UTC)},
            "an expiring order must be good_till_canceled",
        ),
    ],
)
def test_invalid_orders_are_refused_before_sending(overrides, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        order_request(**overrides)


def test_an_amendment_and_a_decrease_are_fixed_point_strings():
    body = amend_request(expiration=datetime(2026, 3, 2, 15, tzinfo=UTC)).to_json()
    assert body == {
        "ticker": TICKER,
        "side": "bid",
        "price": "0.3200",
        "count": "8.00",
        "client_order_id": "kw-1",
        "updated_client_order_id": "kw-1b",
        "expiration_time": 1772463600,
    }
    assert decrease_body(reduce_by=D(2)) == {"reduce_by": "2.00"}
    assert decrease_body(reduce_to=D(0)) == {"reduce_to": "0.00"}
    with pytest.raises(ValueError, match="exactly one"):
        decrease_body(reduce_by=D(1), reduce_to=D(1))
    with pytest.raises(ValueError, match=r"steps of 0\.01"):
        amend_request(count=D("0.001"))


def test_an_order_ack_reads_v2_fixed_point_fields():
    ack = parse_order_ack(
        {
            "order_id": "ord-1",
            "client_order_id": "kw-1",
            "fill_count": "5.00",
            "remaining_count": "",
            "average_fill_price": "0.5800",
            "average_fee_paid": "0.0012",
            "ts_ms": 1772463600123,
        }
    )
    assert (ack.fill_count, ack.remaining_count, ack.average_fill_price) == (D(5), None, D("0.58"))
    assert ack.at == datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(BadResponse, match=r"OrderAck 'ord-1': .*average_fill_price"):
        parse_order_ack({"order_id": "ord-1", "average_fill_price": "58c"})


def test_orders_and_fills_read_the_book_side_or_derive_it_from_legacy_fields():
    assert parse_order(payloads.order()).book_side is BookSide.BID
    legacy = parse_order(payloads.order(outcome_side=DROP, book_side=DROP, side="no", action="buy"))
    assert (legacy.outcome_side, legacy.book_side) == (Side.NO, BookSide.ASK)  # buying NO sells YES
    v2 = parse_fill(payloads.fill(side=DROP, action=DROP, outcome_side="yes", book_side="ask"))
    assert (v2.outcome_side, v2.book_side) == (Side.YES, BookSide.ASK)


@pytest.mark.parametrize(
    ("price", "structure", "ok"),
    [
        (D("0.31"), "linear_cent", True),
        (D("0.315"), "linear_cent", False),
        (D("0.315"), "deci_cent", True),
        (D("0.055"), "tapered_deci_cent", True),
        (D("0.955"), "tapered_deci_cent", True),
        (D("0.555"), "tapered_deci_cent", False),
        (D("0.55"), "", True),
        (D(0), "deci_cent", False),
    ],
)
def test_prices_are_checked_against_the_market_tick_structure(price, structure, ok):
    assert price_on_tick(price, structure) is ok
    assert parse_market(payloads.market(price_level_structure=structure)).accepts_price(price) is ok
