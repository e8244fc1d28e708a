"""The DRY mode end to end: the paper broker takes by walking the real book, rests in the queue, charges real fees."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from markets.schemas.enums import BookSide, TimeInForce
from trading import execution
from trading.accounting import account_for, record_settlement
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.decisions import OrderIntent, client_order_id
from trading.models import DecisionLogEntry, Fill, Order, Position, RiskLimits, TradingState
from trading.services import resume_trading
from trading.snapshot import build_snapshot
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, book, build_world, quiet_books, trade

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world():
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    return world


def intent_for(market, *, side=BookSide.BID, price="0.45", count="10", post_only=False, at=NOW):
    price, count = D(price), D(count)
    return OrderIntent(
        ticker=market.ticker,
        event_ticker=market.event.event_ticker,
        side=side,
        price=price,
        count=count,
        time_in_force=TimeInForce.GOOD_TILL_CANCELED if post_only else TimeInForce.IMMEDIATE_OR_CANCEL,
        post_only=post_only,
        client_order_id=client_order_id(
            strategy="t", ticker=market.ticker, side=side, price=price, count=count, as_of=at
        ),
        strategy="t",
        reason="test",
    )


def place(market, **kwargs):
    snapshot = build_snapshot(mode="DRY", now=NOW, limits=RiskLimits.load().limits(), status=TradingState.load().status)
    event = snapshot.events[0]
    view = next(m for m in event.markets if m.ticker == market.ticker)
    order, verdict = execution.reserve(
        intent_for(market, **kwargs), mode="DRY", event=event, market=view, limits=snapshot.limits,
        status=snapshot.status, now=NOW,
    )  # fmt: skip
    assert order is not None, verdict.reason
    return execution.send(order, PaperBroker(), now=NOW)


def test_a_taker_walks_the_book_level_by_level_within_its_limit_and_pays_each_fills_share_of_the_fee(world):
    # Buying 40 YES at up to 0.45: 30 at the 0.42 ask, then 10 of the 100 at 0.45. (Risk would not
    # approve more than the best level shows; the book can have moved between the decision and the send.)
    order = OrderFactory.create(
        market=world.mid, book_side="bid", price=D("0.45"), count=D(40), time_in_force="immediate_or_cancel"
    )
    order = execution.send(order, PaperBroker(), now=NOW)
    assert (order.status, order.filled_count, order.remaining_count) == ("executed", D(40), D(0))
    fills = list(Fill.objects.order_by("created_time", "trade_id"))
    assert [(f.own_price, f.count) for f in fills] == [(D("0.42"), D(30)), (D("0.45"), D(10))]
    # 0.07 x 30 x 0.42 x 0.58 = 0.51156 -> 0.52; the order's total 0.51156 + 0.17325 = 0.68481 -> 0.69
    assert [f.fee for f in fills] == [D("0.52"), D("0.17")] and order.fees == D("0.69")
    position = Position.objects.get(mode="DRY", ticker=world.mid.ticker)
    assert (position.yes_count, position.total_cost, position.fees_paid) == (D(40), D("17.10"), D("0.69"))
    assert account_for("DRY").cash == D(1000) - D("17.10") - D("0.69")


def test_a_taker_takes_nothing_beyond_its_limit_and_the_rest_is_cancelled(world):
    order = place(world.mid, price="0.40", count="5")  # the best ask is 0.42
    assert (order.status, order.filled_count) == ("canceled", D(0))
    assert "offered no more at $0.40" in order.reason and not Fill.objects.exists()


def test_a_post_only_order_that_would_cross_is_refused(world):
    order = place(world.mid, price="0.43", count="5", post_only=True)
    assert order.status == "rejected" and "would cross" in order.reason


def test_a_resting_bid_fills_only_from_later_trades_of_the_other_side_after_the_queue_ahead(world):
    # 40 YES are bid at 0.38 already: our 10 at 0.38 wait behind them.
    order = place(world.mid, price="0.38", count="10", post_only=True)
    assert (order.status, order.queue_ahead) == ("resting", D(40))
    # The print at the moment of placement never fills it; a YES taker does not either (wrong side).
    trade(world.mid, yes_price="0.38", count="30", taker="no", at=NOW, trade_id="t0")
    trade(world.mid, yes_price="0.42", count="30", taker="yes", at=NOW + timedelta(minutes=1), trade_id="t1")
    trade(world.mid, yes_price="0.38", count="45", taker="no", at=NOW + timedelta(minutes=2), trade_id="t2")
    execution.catch_up(PaperBroker(), now=NOW + timedelta(minutes=3))
    order.refresh_from_db()
    assert (order.status, order.filled_count, order.queue_ahead) == ("resting", D(5), D(0))  # 40 ahead, 5 left
    trade(world.mid, yes_price="0.35", count="20", taker="no", at=NOW + timedelta(minutes=4), trade_id="t3")
    execution.catch_up(PaperBroker(), now=NOW + timedelta(minutes=5))
    order.refresh_from_db()
    assert (order.status, order.filled_count) == ("executed", D(10))  # a trade through our price fills the rest
    fills = list(Fill.objects.filter(order=order).order_by("created_time"))
    assert [(f.count, f.own_price, f.is_taker) for f in fills] == [(D(5), D("0.38"), False), (D(5), D("0.38"), False)]
    assert sum(f.fee for f in fills) == D(0)  # weather series charge no maker fee


def test_catching_up_twice_books_nothing_twice(world):
    order = place(world.mid, price="0.38", count="10", post_only=True)
    trade(world.mid, yes_price="0.30", count="4", taker="no", at=NOW + timedelta(minutes=1), trade_id="t1")
    for _ in range(3):
        execution.catch_up(PaperBroker(), now=NOW + timedelta(minutes=2))
    order.refresh_from_db()
    assert order.filled_count == D(4) and Fill.objects.count() == 1


def test_a_resting_order_is_cancelled_when_its_market_closes(world):
    order = place(world.mid, price="0.38", count="10", post_only=True)
    execution.catch_up(PaperBroker(), now=world.mid.close_time + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.status == "canceled" and "market closed" in order.reason


def test_the_trading_cycle_places_logs_every_market_and_settlement_pays_the_bankroll(world):
    cycle = run_cycle(PaperBroker(), now=NOW)
    assert cycle.outcome == "done", cycle.detail
    assert (cycle.events, cycle.markets) == (1, 3) and cycle.placed >= 1
    [order] = Order.objects.filter(ticker=world.mid.ticker)  # the cheap middle bracket, bought
    assert order.status == "executed" and order.buys == "yes"
    log = {e.ticker: e for e in DecisionLogEntry.objects.filter(cycle=cycle)}
    assert set(log) == {m.ticker for m in world.markets}
    assert log[world.mid.ticker].verdict == "ordered" and log[world.mid.ticker].edge > 0
    assert log[world.mid.ticker].probability == pytest.approx(0.75)
    assert all(e.reason for e in log.values())
    # The market settles YES: $1 a contract, and the bankroll moves by exactly the P&L.
    position = Position.objects.get(ticker=world.mid.ticker)
    cost, fees, count = position.total_cost, position.fees_paid, position.yes_count
    record_settlement(world.mid.ticker, mode="DRY", result="yes", payout=D(1), settled_time=NOW, now=NOW)
    assert account_for("DRY").cash == D(1000) - cost - fees + count


def test_the_same_cycle_run_again_after_a_crash_places_nothing_twice(world):
    run_cycle(PaperBroker(), now=NOW)
    placed = list(Order.objects.values_list("client_order_id", "status"))
    run_cycle(PaperBroker(), now=NOW)  # a worker restarted on the same decision time
    assert list(Order.objects.values_list("client_order_id", "status")) == placed
    assert Fill.objects.count() == Fill.objects.values("trade_id").distinct().count()


def test_a_halted_cycle_sends_nothing_and_says_why_for_every_market(world):
    TradingState.objects.update(state="halted")
    cycle = run_cycle(PaperBroker(), now=NOW)
    assert not Order.objects.exists()
    assert {e.verdict for e in DecisionLogEntry.objects.filter(cycle=cycle)} <= {"refused", "passed"}


def test_manual_approval_queues_orders_until_an_operator_approves(world):
    RiskLimits.objects.update(require_approval=True)
    cycle = run_cycle(PaperBroker(), now=NOW)
    [order] = Order.objects.all()
    assert (order.status, cycle.queued, cycle.placed) == ("approval", 1, 0)
    assert DecisionLogEntry.objects.get(ticker=order.ticker, cycle=cycle).verdict == "queued"
    order = execution.approve(order, PaperBroker(), actor="operator", now=NOW + timedelta(seconds=5))
    assert order.status == "executed" and "approved by operator" in order.reason


def test_an_unknown_order_blocks_its_market_until_resolved(world):
    run_cycle(PaperBroker(), now=NOW)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status="unknown")
    later = NOW + timedelta(minutes=10)
    book(world.mid, yes=[("0.38", "40")], no=[("0.58", "30")], at=later)
    cycle = run_cycle(PaperBroker(), now=later)
    assert Order.objects.filter(ticker=world.mid.ticker).count() == 1
    entry = DecisionLogEntry.objects.get(cycle=cycle, ticker=world.mid.ticker)
    assert entry.verdict == "passed" and "still working" in entry.reason  # the strategy sees it; risk would too
