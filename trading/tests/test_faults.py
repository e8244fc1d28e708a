"""Faults against the local exchange, from seeded scripts: never a duplicate order, a lost or double-counted fill,
or a breached limit, and reconciliation ends with our ledger equal to the exchange's."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from kalshiweb.modes import TradingMode
from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from localexchange.ws import Faults
from markets.client import KalshiClient
from markets.errors import KalshiError
from markets.feed.backoff import Backoff
from markets.feed.connection import FeedConnection
from markets.feed.protocol import Channel
from markets.feed.service import FeedRecorder
from markets.schemas.enums import BookSide
from markets.signing import RequestSigner
from markets.transport import Timeouts
from trading import execution
from trading.accounting import record_fills
from trading.brokers import KalshiBroker, broker_for
from trading.brokers.kalshi import fill_report
from trading.cycle import run_cycle
from trading.drill.audit import audit, exchange_record
from trading.drill.venue import in_background
from trading.feed import AccountRecorder
from trading.models import Fill, Order, RiskLimits, TradingState
from trading.reconcile import reconcile
from trading.services import resume_trading
from trading.tests.exchange import MEMBER, Served, served
from trading.tests.test_end_to_end import store_books, venue
from trading.tests.world import NOW, World, build_world

pytestmark = pytest.mark.django_db

D = Decimal
DEMO = TradingMode.DEMO


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def world() -> World:
    world = build_world()
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=2))
    return world


def placed(exchange: Exchange, client_order_id: str) -> int:
    """How many orders the exchange holds with our client order id."""
    return sum(1 for o in exchange_record(exchange).orders if o.client_order_id == client_order_id)


def assert_ledgers_agree(running: Served, at: datetime) -> None:
    """After a closing reconciliation: no order twice, every fill once, no limit passed, positions and cash equal."""
    closing = reconcile(running.client, mode="DEMO", now=at)
    assert closing.complete, closing.detail
    findings = audit(running, mode="DEMO")
    assert findings.clean, findings


def exchange_fills(client: KalshiClient) -> list[Any]:
    return [*client.iter_fills(), *client.iter_historical_fills()]


def cycle_at(client: KalshiClient, world: World, at: datetime) -> Any:
    with contextlib.suppress(KalshiError):  # the feed missed a beat: the cycle decides on the books it has
        store_books(client, world, at)
    return run_cycle(broker_for(DEMO, client=client), now=at)


def test_a_create_that_times_out_after_the_exchange_accepted_it_blocks_the_market_until_reconciled(key, world):
    exchange = venue(world)
    faults = Faults(seed=11, hang_rate=1.0, hang_seconds=1.0)
    with served(exchange, key, faults=faults, timeouts=Timeouts(read=0.3)) as running:
        client = running.client
        reconcile(client, mode="DEMO", now=NOW - timedelta(minutes=1))
        cycle_at(client, world, NOW)
        [order] = Order.objects.filter(mode="DEMO")
        assert order.status == Order.Status.UNKNOWN and "outcome unknown" in order.reason
        assert placed(exchange, order.client_order_id) == 1  # it was placed all the same
        faults.hang_rate = 0.0
        later = cycle_at(client, world, NOW + timedelta(minutes=1))
        assert Order.objects.filter(mode="DEMO", ticker=order.ticker).count() == 1  # its market stayed blocked
        assert later.outcome == "done"
        assert_ledgers_agree(running, NOW + timedelta(minutes=2))
    order.refresh_from_db()
    assert order.status == Order.Status.EXECUTED and order.filled_count > 0


def test_a_retry_storm_of_refusals_and_errors_never_duplicates_an_order_or_breaches_a_limit(key, world):
    limits = RiskLimits.load()
    limits.max_position_contracts, limits.max_consecutive_exchange_errors = D(12), 1000
    limits.save()
    exchange = venue(world)
    faults = Faults(seed=5, rate_limit_rate=0.25, server_error_rate=0.15)
    with served(exchange, key, faults=faults) as running:
        client = running.client
        for minute in range(8):
            at = NOW + timedelta(minutes=minute)
            cycle_at(client, world, at)
            reconcile(client, mode="DEMO", now=at + timedelta(seconds=30), grace=timedelta(seconds=10))
        faults.rate_limit_rate = faults.server_error_rate = 0.0
        assert_ledgers_agree(running, NOW + timedelta(hours=1))
    held = {t: p for t, p in exchange.member(MEMBER).positions.items() if p.is_open}
    assert held and all(p.yes + p.no <= limits.max_position_contracts for p in held.values())
    statuses = Counter(Order.objects.filter(mode="DEMO").values_list("status", flat=True))
    assert statuses[Order.Status.UNKNOWN] == 0 and statuses[Order.Status.PENDING] == 0


class Killed(BaseException):
    """The worker's process died here (not an error the cycle could catch)."""


def test_a_worker_killed_before_sending_or_before_hearing_the_answer_places_each_order_once(key, world, monkeypatch):
    exchange = venue(world)
    real_send, real_apply = execution.send_all, execution.apply_all
    with served(exchange, key) as running:
        client = running.client
        reconcile(client, mode="DEMO", now=NOW - timedelta(minutes=1))
        store_books(client, world, NOW)

        def killed_before_sending(orders: Any, broker: Any, *, now: datetime) -> Any:
            if orders:
                raise Killed
            return real_send(orders, broker, now=now)

        monkeypatch.setattr(execution, "send_all", killed_before_sending)
        with pytest.raises(Killed):
            run_cycle(broker_for(DEMO, client=client), now=NOW)
        [order] = Order.objects.filter(mode="DEMO")
        assert order.status == Order.Status.PENDING  # reserved, never sent
        assert placed(exchange, order.client_order_id) == 0

        answers: list[Any] = []

        def killed_after_the_exchange_answered(placed: Any, *, now: datetime) -> Any:
            if not placed:
                return real_apply(placed, now=now)
            answers.extend(placement for _, placement in placed)
            raise Killed

        monkeypatch.setattr(execution, "send_all", real_send)
        monkeypatch.setattr(execution, "apply_all", killed_after_the_exchange_answered)
        with pytest.raises(Killed):  # the restarted worker's first cycle sends what was never sent
            run_cycle(broker_for(DEMO, client=client), now=NOW + timedelta(minutes=1))
        assert answers[0].status == Order.Status.EXECUTED, answers
        assert placed(exchange, order.client_order_id) == 1

        monkeypatch.setattr(execution, "apply_all", real_apply)
        # Restarted again, it sends the unanswered order once more: the exchange says "already placed".
        cycle = run_cycle(broker_for(DEMO, client=client), now=NOW + timedelta(minutes=2))
        assert cycle.outcome == "done", cycle.detail
        order.refresh_from_db()
        assert order.status == Order.Status.EXECUTED and "already has this client order id" in order.reason
        assert_ledgers_agree(running, NOW + timedelta(minutes=5))
    assert placed(exchange, order.client_order_id) == 1


def test_duplicated_and_reordered_fills_and_a_gap_then_rest_recovery_count_each_fill_once(key, world, monkeypatch):
    """The feed hears our fills twice and out of order and loses some in a gap; REST recovery books the rest once."""
    limits = RiskLimits.load()
    limits.max_depth_fraction = D(1)
    limits.save()
    exchange = venue(world)
    for n in range(6):  # small offers ahead of the maker's 30: our order fills against several of them
        exchange.deposit(f"maker{n}", D(10))
        exchange.place(NewOrder(f"maker{n}", world.mid.ticker, BookSide.ASK, D("0.41"), D(2)), at=NOW)
    monkeypatch.setattr(KalshiBroker, "_fills_of", lambda self, *args: ())  # the broker's own read of them fails
    with served(exchange, key) as running:
        client = running.client
        reconcile(client, mode="DEMO", now=NOW - timedelta(minutes=1))
        cycle_at(client, world, NOW)
        assert not Fill.objects.exists() and Order.objects.get(mode="DEMO").filled_count > 1
        fills = [fill_report(f, received=NOW) for f in exchange_fills(client)]
        assert len(fills) >= 3, "the order should have filled against several offers"
        before_gap = fills[: len(fills) // 2]
        record_fills([*before_gap, *reversed(before_gap), before_gap[0]], mode="DEMO", now=NOW)  # twice, reordered
        assert Fill.objects.count() == len(before_gap)
        assert_ledgers_agree(running, NOW + timedelta(minutes=1))  # the rest, from REST, once


@override_settings(TRADING_MODE="DEMO")  # the feed books into the configured mode's ledger
def test_fills_heard_over_the_websocket_twice_out_of_order_and_with_a_drop_are_booked_once(key, world, monkeypatch):
    """Through the real feed: the local exchange duplicates, reorders and drops our fill frames (seeded)."""
    limits = RiskLimits.load()
    limits.max_depth_fraction = D(1)
    limits.save()
    exchange = venue(world)
    for n in range(8):
        exchange.deposit(f"maker{n}", D(10))
        exchange.place(NewOrder(f"maker{n}", world.mid.ticker, BookSide.ASK, D("0.41"), D(2)), at=NOW)
    monkeypatch.setattr(KalshiBroker, "_fills_of", lambda self, *args: ())  # only the feed tells us our fills
    faults = Faults(seed=9, duplicate_rate=0.5, reorder_rate=0.5, drop_after=4)
    with served(exchange, key, faults=faults) as running:
        recorder = FeedRecorder({m.ticker: m.pk for m in world.markets})
        with listening(running, key, recorder):
            wait_for(lambda: recorder.connection is not None and Channel.FILL in recorder.connection.subscribed)
            reconcile(running.client, mode="DEMO", now=NOW - timedelta(minutes=1))
            cycle_at(running.client, world, NOW)
            heard_fills = len(exchange_fills(running.client))
            assert heard_fills >= 3, "the order should have filled against several offers"
            wait_for(lambda: recorder.account_frames["fill"] >= heard_fills - 1, seconds=5, required=False)
        assert isinstance(recorder.account, AccountRecorder)
        recorder.account.flush()  # what the feed stores every FEED_RECORD_SECONDS
        booked_by_feed = Fill.objects.filter(mode="DEMO").count()
        assert recorder.account_frames["fill"] > 0 and recorder.account.rejected == 0
        assert 0 < booked_by_feed < recorder.account_frames["fill"]  # some heard twice, each booked once
        assert booked_by_feed < heard_fills  # and some lost when the connection dropped
        assert_ledgers_agree(running, NOW + timedelta(minutes=1))  # the dropped ones from REST


def test_the_exchange_pausing_trading_trips_the_kill_switch(key, world):
    exchange = venue(world)
    exchange.trading_active = False
    with served(exchange, key) as running:
        cycle = cycle_at(running.client, world, NOW)
    state = TradingState.load()
    assert (state.state, state.changed_by) == (TradingState.State.HALTED, "system:exchange_inactive")
    assert cycle.outcome == "skipped" and not Order.objects.exists()


def listening(running: Served, key: Any, recorder: FeedRecorder) -> contextlib.AbstractContextManager[Any]:
    """The feed's connection for our fills, in its own thread and event loop, until the block ends."""
    connection = FeedConnection(running.urls.ws_url, RequestSigner(MEMBER, key), recorder, backoff=Backoff(0.01, 0.05))
    recorder.connection = connection
    connection.watch(Channel.FILL)
    return in_background(connection.run)


def wait_for(condition: Any, *, seconds: float = 10, required: bool = True) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            assert not required, "timed out waiting"
            return
        time.sleep(0.02)


def test_contracts_filled_at_the_exchange_but_not_yet_booked_count_against_the_limits(key, world, monkeypatch):
    """The fill report lost (the read failed, the feed not yet heard): the next decision still sees the contracts."""
    limits = RiskLimits.load()
    limits.max_position_contracts, limits.max_depth_fraction = D(12), D(1)
    limits.save()
    exchange = venue(world)
    monkeypatch.setattr(KalshiBroker, "_fills_of", lambda self, *args: ())  # the broker's own read of them fails
    with served(exchange, key) as running:
        reconcile(running.client, mode="DEMO", now=NOW - timedelta(minutes=1))
        cycle_at(running.client, world, NOW)
        [order] = Order.objects.filter(mode="DEMO")
        assert order.filled_count == 10 and not Fill.objects.exists()
        cycle_at(running.client, world, NOW + timedelta(minutes=1))
        assert Order.objects.filter(mode="DEMO").count() == 2  # it bought again, only up to the limit
        held = exchange.member(MEMBER).positions[world.mid.ticker]
        assert held.yes + held.no == limits.max_position_contracts
        assert_ledgers_agree(running, NOW + timedelta(minutes=2))
