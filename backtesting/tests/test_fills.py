from datetime import timedelta

from backtesting.fills import ConservativeFills, NaiveFills, SimOrder
from backtesting.tape import to_micros
from backtesting.tests.worlds import tape, utc
from markets.schemas.enums import Side

PLACED = to_micros(utc("2025-01-10T15:00:00"))
CLOSE = to_micros(utc("2025-01-11T04:59:00"))


def bid(limit: str, count: int, side: Side = Side.YES, *, taker: bool = False) -> SimOrder:
    return SimOrder("o", "T", side, int(float(limit) * 1_000_000), count * 100, PLACED, CLOSE, taker)


def run(order, prints, model=None):
    model = model or ConservativeFills(queue_lookback=timedelta(hours=1))
    recorded = tape(*prints)
    fills = model.open(order, recorded) + model.advance(order, recorded, CLOSE)
    return [(f.count // 100, f.price / 1_000_000) for f in fills]


def test_a_resting_bid_is_filled_by_sellers_trading_through_it():
    prints = [("2025-01-10T16:00:00", "0.38", 4, "no"), ("2025-01-10T17:00:00", "0.41", 9, "no")]
    assert run(bid("0.40", 10), prints) == [(4, 0.40)]  # at our price, not theirs; 0.41 is above our bid


def test_at_its_price_a_bid_waits_for_the_queue_that_traded_there_before_it():
    prints = [
        ("2025-01-10T14:30:00", "0.40", 6, "no"),  # 6 sold at 40¢ in the hour before: 6 rest ahead of us
        ("2025-01-10T16:00:00", "0.40", 4, "no"),  # eats 4 of the queue
        ("2025-01-10T17:00:00", "0.40", 5, "no"),  # 2 more of the queue, then 3 for us
        ("2025-01-10T18:00:00", "0.40", 20, "yes"),  # buyers: never fill a bid
    ]
    assert run(bid("0.40", 10), prints) == [(3, 0.40)]


def test_a_bid_never_fills_from_the_print_that_came_with_the_decision():
    prints = [("2025-01-10T15:00:00", "0.35", 10, "no")]  # at the decision itself
    assert run(bid("0.40", 10), prints) == []


def test_a_no_bid_is_filled_by_yes_buyers_paying_through_its_complement():
    # Bidding 0.70 for NO is offering YES at 0.30; a YES buyer paying 0.29 trades through it.
    prints = [("2025-01-10T16:00:00", "0.29", 7, "yes"), ("2025-01-10T16:30:00", "0.31", 7, "yes")]
    assert run(bid("0.70", 10, Side.NO), prints) == [(7, 0.70)]


def test_a_taker_fills_only_inside_its_window_from_same_side_takers_at_no_better_than_before():
    order = bid("0.45", 10, taker=True)
    order.expires = PLACED + 15 * 60_000_000
    prints = [
        ("2025-01-10T14:59:00", "0.44", 1, "yes"),
        ("2025-01-10T15:05:00", "0.42", 3, "yes"),  # filled at 0.44, the last ask before the decision
        ("2025-01-10T15:06:00", "0.43", 3, "no"),  # a seller: no evidence of an ask
        ("2025-01-10T15:20:00", "0.44", 9, "yes"),  # after the window
    ]
    assert run(order, prints) == [(3, 0.44)]


def test_the_naive_model_fills_in_full_at_the_last_trade_or_the_first_touch():
    taker = bid("0.45", 10, taker=True)
    assert run(taker, [("2025-01-10T14:59:00", "0.41", 1, "no")], NaiveFills()) == [(10, 0.41)]
    maker = bid("0.40", 10)
    assert run(maker, [("2025-01-10T16:00:00", "0.40", 1, "yes")], NaiveFills()) == [(10, 0.40)]
