"""Matching and money on the local exchange: Kalshi's V2 order rules, and conservation under random flow."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localexchange.exchange import Exchange
from localexchange.matching import LevelChange, NewOrder, OrderRefused
from markets.schemas.enums import BookSide, SelfTradePrevention, TimeInForce
from trading.fees import FeeSchedule

AT = datetime(2025, 2, 20, 15, tzinfo=UTC)
M = "KXHIGHNY-25FEB20-B44.5"
QUADRATIC = FeeSchedule("quadratic", Decimal(1))
BID, ASK = BookSide.BID, BookSide.ASK
D = Decimal


def exchange(**deposits: int) -> Exchange:
    venue = Exchange()
    venue.open_market(M, QUADRATIC)
    for member, amount in (deposits or {"alice": 1000, "bob": 1000, "carol": 1000}).items():
        venue.deposit(member, D(amount))
    return venue


def order(member: str, side: BookSide, price: str, count: str, **options) -> NewOrder:
    return NewOrder(member, M, side, D(price), D(count), **options)


def test_a_taker_meets_the_best_prices_oldest_first_at_the_makers_price():
    venue = exchange()
    first = venue.place(order("alice", ASK, "0.45", "5"), at=AT).order_id
    second = venue.place(order("bob", ASK, "0.45", "5"), at=AT).order_id
    venue.place(order("carol", ASK, "0.44", "2"), at=AT)
    taken = venue.place(order("carol", BID, "0.50", "8", self_trade_prevention=SelfTradePrevention.MAKER), at=AT)
    # carol's own ask at 0.44 is canceled by self-trade prevention (maker), then 0.45 oldest first.
    assert [(e.price, e.count, e.maker_order_id) for e in taken.executions] == [
        (D("0.45"), D(5), first),
        (D("0.45"), D(3), second),
    ]
    assert [m.member for m in taken.canceled_makers] == ["carol"]
    assert taken.resting == 0 and taken.canceled == 0
    book = venue.markets[M].book
    assert book.asks() == [(D("0.45"), D(2))] and book.bids() == []
    assert book.no_bids() == [(D("0.55"), D(2))]  # as the WebSocket shows asks


def test_time_in_force_rests_cancels_or_kills():
    venue = exchange()
    venue.place(order("alice", ASK, "0.40", "3"), at=AT)
    gtc = venue.place(order("bob", BID, "0.41", "5"), at=AT)
    assert (gtc.filled, gtc.resting) == (D(3), D(2))
    assert gtc.changes == [LevelChange("no", D("0.60"), D(-3)), LevelChange("yes", D("0.41"), D(2))]
    venue.place(order("alice", ASK, "0.42", "1"), at=AT)
    ioc = venue.place(order("carol", BID, "0.42", "4", time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL), at=AT)
    assert (ioc.filled, ioc.resting, ioc.canceled) == (D(1), D(0), D(3))
    before = venue.markets[M].book.bids()
    with pytest.raises(OrderRefused) as refused:
        venue.place(order("carol", ASK, "0.41", "3", time_in_force=TimeInForce.FILL_OR_KILL), at=AT)
    assert refused.value.code == "fill_or_kill_insufficient_resting_volume"
    assert venue.markets[M].book.bids() == before  # nothing happened


def test_post_only_that_would_cross_is_refused_and_taker_at_cross_stops_at_its_own_order():
    venue = exchange()
    venue.place(order("alice", ASK, "0.40", "3"), at=AT)
    with pytest.raises(OrderRefused, match="would cross") as refused:
        venue.place(order("bob", BID, "0.40", "1", post_only=True), at=AT)
    assert refused.value.code == "post_only_cross"
    stopped = venue.place(order("alice", BID, "0.45", "2"), at=AT)  # taker_at_cross is the default
    assert stopped.executions == [] and stopped.canceled == D(2) and stopped.resting == 0


def test_money_moves_with_fills_fees_and_settlement():
    venue = exchange(alice=100, bob=100)
    venue.place(order("alice", ASK, "0.30", "10"), at=AT)  # alice opens NO at 0.70
    assert venue.members["alice"].available == D("93.00")  # 10 x 0.70 reserved while resting
    taken = venue.place(order("bob", BID, "0.30", "10"), at=AT)
    # The quadratic fee type charges takers only: 0.07 x 10 x 0.3 x 0.7 = 0.147, rounded up to 0.15.
    assert taken.filled == 10
    assert venue.members["bob"].balance == D("100") - D("3.00") - D("0.15")
    assert venue.members["alice"].balance == D("100") - D("7.00")
    assert venue.members["alice"].reserved == {}
    paid = venue.settle(M, "no")
    assert paid == {"alice": D(10), "bob": D(0)}
    assert venue.members["alice"].balance == D("103.00") and venue.members["bob"].balance == D("96.85")
    assert venue.fees_collected == D("0.15")
    with pytest.raises(OrderRefused) as closed:
        venue.place(order("bob", BID, "0.30", "1"), at=AT)
    assert closed.value.code == "market_closed"


def test_orders_are_checked_before_anything_happens():
    venue = exchange(alice=1)
    for bad, code in (
        (order("alice", BID, "0.005", "1"), "invalid_price"),
        (order("alice", BID, "1.00", "1"), "invalid_price"),
        (order("alice", BID, "0.50", "0.001"), "invalid_count"),
        (order("alice", BID, "0.50", "10"), "insufficient_balance"),
    ):
        with pytest.raises(OrderRefused) as refused:
            venue.place(bad, at=AT)
        assert refused.value.code == code
    with pytest.raises(OrderRefused) as missing:
        venue.cancel("alice", "ord-404")
    assert missing.value.code == "order_not_found"


def test_a_canceled_or_decreased_order_releases_its_collateral():
    venue = exchange(alice=10)
    placed = venue.place(order("alice", BID, "0.50", "10"), at=AT)
    assert venue.members["alice"].available == D(5)
    book = venue.markets[M].book
    _, change = book.decrease(placed.order_id, by=D(4))
    assert change == LevelChange("yes", D("0.50"), D(-4)) and book.bids() == [(D("0.50"), D(6))]
    _, change = venue.cancel("alice", placed.order_id)
    assert change == LevelChange("yes", D("0.50"), D(-6))
    assert venue.members["alice"].available == D(10) and book.bids() == []


MEMBERS = ("alice", "bob", "carol")
orders = st.builds(
    lambda member, side, cents, count, tif, stp: NewOrder(
        member, M, side, D(cents) / 100, D(count), time_in_force=tif, self_trade_prevention=stp
    ),
    st.sampled_from(MEMBERS),
    st.sampled_from([BID, ASK]),
    st.integers(30, 70),
    st.integers(1, 20),
    st.sampled_from(list(TimeInForce)),
    st.sampled_from(list(SelfTradePrevention)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(orders, min_size=1, max_size=60), st.sampled_from(["yes", "no"]))
def test_money_and_contracts_are_conserved_and_the_book_never_crosses(flow, result):
    venue = exchange()
    deposits = sum((m.balance for m in venue.members.values()), D(0))
    for new in flow:
        try:
            venue.place(new, at=AT)
        except OrderRefused:
            continue
        book = venue.markets[M].book
        bids, asks = book.bids(), book.asks()
        assert not bids or not asks or bids[0][0] < asks[0][0]
        positions = [m.positions.get(M) for m in venue.members.values()]
        yes = sum((p.yes for p in positions if p), D(0))
        no = sum((p.no for p in positions if p), D(0))
        assert yes == no  # every contract has a YES and a NO holder
        cash = sum((m.balance for m in venue.members.values()), D(0))
        assert cash + venue.fees_collected + yes == deposits  # each open pair holds $1
        assert all(m.available >= 0 for m in venue.members.values())
    venue.settle(M, result)
    cash = sum((m.balance for m in venue.members.values()), D(0))
    assert cash + venue.fees_collected == deposits


def test_makers_pay_where_the_series_charges_maker_fees():
    venue = Exchange()
    venue.open_market(M, FeeSchedule("quadratic_with_maker_fees", Decimal(1)))
    venue.deposit("alice", D(100))
    venue.deposit("bob", D(100))
    venue.place(order("alice", ASK, "0.30", "10"), at=AT)
    venue.place(order("bob", BID, "0.30", "10"), at=AT)
    # Maker 0.0175 x 10 x 0.3 x 0.7 = 0.03675, rounded up to 0.04; the taker pays 0.15.
    assert venue.members["alice"].balance == D("92.96") and venue.fees_collected == D("0.19")


def test_makers_quote_around_their_path_and_follow_it():
    import asyncio
    from datetime import timedelta

    from localexchange.makers import Maker, recorded
    from localexchange.ws import LocalFeed

    venue = exchange(maker=10_000)
    feed = LocalFeed(venue, {})
    path = recorded([AT, AT + timedelta(minutes=5)], [D("0.40"), D("0.62")], before=D("0.50"))
    maker = Maker("maker", {M: path}, spread=D("0.04"), size=D(10))
    book = venue.markets[M].book

    asyncio.run(maker.requote(feed, AT - timedelta(minutes=1)))
    assert (book.bids(), book.asks()) == ([(D("0.48"), D(10))], [(D("0.52"), D(10))])
    asyncio.run(maker.requote(feed, AT + timedelta(minutes=6)))  # the old quotes are replaced, not added to
    assert (book.bids(), book.asks()) == ([(D("0.60"), D(10))], [(D("0.64"), D(10))])
    assert venue.members["maker"].available == D(10_000) - D(10) * D("0.60") - D(10) * D("0.36")
