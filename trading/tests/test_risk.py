from datetime import timedelta
from decimal import Decimal

import pytest

from markets.schemas.enums import BookSide, TimeInForce
from trading.decisions import Holding, OrderIntent, Portfolio
from trading.limits import Limits, Rule, TradingStatus
from trading.risk import Exposure, check_order
from trading.tests.core import DAY, NOW, event, quote


def intent(count: int = 10, price: str = "0.30", side: BookSide = BookSide.BID, *, taker: bool = True, **kw):
    return OrderIntent(
        ticker="KXHIGHNY-25JAN10-1",
        event_ticker="KXHIGHNY-25JAN10",
        side=side,
        price=Decimal(price),
        count=Decimal(count),
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if taker else TimeInForce.GOOD_TILL_CANCELED,
        post_only=not taker,
        client_order_id="",
        strategy="test",
        reason="test",
        **kw,
    )


def verdict(order, *, portfolio=None, limits=None, status=TradingStatus.ACTIVE, age=timedelta(minutes=5), size=None):
    ev = event([quote("0.10", "0.12"), quote("0.28", "0.30", age=age, yes_ask_size=size), quote("0.3", "0.4")])
    exposure = Exposure.of(portfolio or Portfolio(Decimal(1000)))
    return check_order(
        order, event=ev, market=ev.markets[1], exposure=exposure, limits=limits or Limits(), status=status, now=NOW
    )


def test_an_order_inside_every_limit_is_approved_whole():
    assert verdict(intent(5)).approved and verdict(intent(5)).count == 5 and verdict(intent(5)).reason == ""


@pytest.mark.parametrize(
    ("status", "reduce_only", "reason"),
    [
        (TradingStatus.HALTED, False, "trading is halted"),
        (TradingStatus.HALTED, True, "trading is halted"),
        (TradingStatus.REDUCE_ONLY, False, "trading is reduce-only: no new exposure"),
    ],
)
def test_the_kill_switch_refuses_new_orders(status, reduce_only, reason):
    result = verdict(intent(reduce_only=reduce_only), status=status)
    assert (result.approved, result.count, result.reason) == (False, 0, reason)


def test_prices_outside_the_band_are_refused_in_the_price_of_the_side_bought():
    assert "below the minimum price" in verdict(intent(price="0.03")).reason
    # Selling YES at 0.03 buys NO at 0.97: above the 0.95 maximum.
    assert "NO at $0.97 is above the maximum price $0.95" in verdict(intent(price="0.03", side=BookSide.ASK)).reason


def test_a_stale_price_is_not_taken():
    result = verdict(intent(), age=timedelta(hours=7))
    assert not result.approved and result.reason == "the YES price is 7 h 00 min old (limit 6 h 00 min)"
    assert verdict(intent(taker=False), age=timedelta(hours=7)).approved  # a resting bid takes no price


def test_limits_reduce_the_count_and_name_the_limit():
    result = verdict(intent(40))
    assert (result.approved, result.count, result.rules) == (True, 10, (Rule.ORDER_CONTRACTS,))
    assert result.reason == "reduced from 40 to 10: max order 10 contracts"
    cost = verdict(intent(10, price="0.90"), limits=Limits(max_price=Decimal("0.99"), max_order_cost=Decimal(5)))
    assert cost.count == 5 and "max order cost $5" in cost.reason  # 5·0.90 + fee 0.04 fits; 6 does not


def test_exposure_already_held_counts_against_the_event_limit():
    held = Holding("KXHIGHNY-25JAN10-0", "KXHIGHNY-25JAN10", "New York", DAY, yes=Decimal(100), cost=Decimal(48))
    result = verdict(intent(10), portfolio=Portfolio(Decimal(1000), (held,)))
    assert result.count == 6 and "max exposure per event" in result.reason  # 6·0.30 + 0.09 fee fits in $2


def test_the_daily_loss_and_drawdown_limits_stop_new_exposure():
    assert (
        "daily loss $50.00 has reached"
        in verdict(intent(), portfolio=Portfolio(Decimal(950), day_pnl=Decimal(-50))).reason
    )
    down = verdict(intent(), portfolio=Portfolio(Decimal(840), peak_equity=Decimal(1000)))
    assert "drawdown $160.00 has reached the limit $150" in down.reason and down.rules == (Rule.DRAWDOWN,)


def test_no_more_than_the_cash_available_is_spent():
    result = verdict(intent(10), portfolio=Portfolio(Decimal("1.00")))
    assert result.count == 3 and "cash available" in result.reason  # 3·0.30 + 0.02 fee = 0.92


def test_a_share_of_the_displayed_depth_at_most_is_taken():
    result = verdict(intent(10), size=Decimal(12))
    assert result.count == 3 and "25% of the displayed depth" in result.reason


def test_an_order_of_unknown_outcome_blocks_its_market_even_for_reduce_only_orders():
    blocked = Portfolio(Decimal(1000), blocked=frozenset({"KXHIGHNY-25JAN10-1"}))
    for order in (intent(5), intent(5, reduce_only=True)):
        refused = verdict(order, portfolio=blocked)
        assert (refused.approved, refused.rules) == (False, (Rule.UNRESOLVED,))
        assert "unknown until reconciliation" in refused.reason
    assert verdict(intent(5), portfolio=Portfolio(Decimal(1000), blocked=frozenset({"OTHER"}))).approved
