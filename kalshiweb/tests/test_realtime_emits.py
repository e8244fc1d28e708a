"""Where live events come from: risk blocks, kill-switch trips and settlements after commit, the feed's status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from markets.feed.connection import FeedConnection
from markets.feed.protocol import Channel
from markets.feed.service import STATUS_EVERY, FeedRecorder
from markets.schemas.enums import BookSide
from trading.accounting import FillReport, record_fills, record_settlement
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.models import DecisionLogEntry, RiskLimits, TradingState
from trading.services import resume_trading
from trading.tests.world import NOW, World, build_world, quiet_books

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """Every payload broadcast, batched or not, instead of sending it."""
    payloads: list[dict[str, object]] = []
    monkeypatch.setattr("kalshiweb.realtime.broadcast_all", lambda batch: payloads.extend(dict(p) for p in batch))

    async def from_a_loop(batch: list[dict[str, object]]) -> None:
        payloads.extend(dict(p) for p in batch)

    monkeypatch.setattr("kalshiweb.realtime.abroadcast_all", from_a_loop)
    yield payloads


@pytest.fixture
def world() -> World:
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    return world


def of_type(payloads: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [p for p in payloads if p["type"] == kind]


def test_each_market_the_risk_rules_refuse_is_told_once_after_the_cycle_commits(
    world, sent, django_capture_on_commit_callbacks
):
    TradingState.objects.update(state="halted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cycle = run_cycle(PaperBroker(), now=NOW)
    refused = DecisionLogEntry.objects.filter(cycle=cycle, verdict="refused").order_by("pk")
    assert refused.exists() and callbacks  # nothing is told before the log is committed
    assert of_type(sent, "risk.block") == [
        {"type": "risk.block", "mode": "DRY", "ticker": e.ticker, "rule": ", ".join(e.rules), "reason": e.reason}
        for e in refused
    ]
    assert all(p["rule"] for p in of_type(sent, "risk.block"))
    assert [p["type"] for p in sent][-1] == "trading.cycle"


def test_a_kill_switch_trip_is_told_with_its_reason(world, sent, django_capture_on_commit_callbacks):
    class ClosedExchange(PaperBroker):
        def trading_active(self) -> bool | None:
            return False

    with django_capture_on_commit_callbacks(execute=True):
        run_cycle(ClosedExchange(), now=NOW)
    assert of_type(sent, "killswitch.tripped") == [
        {"type": "killswitch.tripped", "mode": "DRY", "reasons": ["the exchange reports trading_active=false"]}
    ]
    [state] = of_type(sent, "trading.state")
    assert (state["state"], state["label"], state["changed_by"]) == ("halted", "Halted", "system:exchange_inactive")
    kinds = [p["type"] for p in sent]
    assert kinds.index("trading.state") < kinds.index("killswitch.tripped") < kinds.index("trading.cycle")


def test_a_settlement_is_told_with_its_pnl_once(world, sent, django_capture_on_commit_callbacks):
    at = NOW - timedelta(hours=1)
    record_fills(
        [FillReport("t1", world.mid.ticker, BookSide.BID, D("0.40"), D(10), D(0), True, at)], mode="DRY", now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            record_settlement(
                world.mid.ticker, mode="DRY", result="yes", payout=D(1), settled_time=NOW, now=NOW, fee=FEE
            )
    assert of_type(sent, "settlement") == [
        {"type": "settlement", "mode": "DRY", "ticker": world.mid.ticker, "result": "yes", "pnl": "5.900000"}
    ]  # $10 paid out on $4 of contracts, less a $0.10 settlement fee; the second call settles nothing


FEE = D("0.10")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class NoSigner:
    def headers(self, method: str, path: str) -> dict[str, str]:
        raise AssertionError("these tests never connect")


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """The recorder's periodic ``record``, its broadcasts run as its writes commit."""

    def record_(recorder: FeedRecorder) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            recorder.record(NOW)

    return record_


@pytest.fixture
def feed() -> tuple[FeedRecorder, Clock]:
    clock = Clock()
    recorder = FeedRecorder({}, account=False, clock=clock, now=lambda: NOW)
    recorder.connection = FeedConnection("wss://exchange.invalid/trade-api/ws/v2", NoSigner(), recorder, clock=clock)
    return recorder, clock


def test_the_feed_reports_its_status_at_most_every_ten_seconds_while_it_holds(feed, sent, record):
    recorder, clock = feed
    state = recorder.connection.state
    state.connected, state.last_frame_at = True, clock.now - 2.5
    record(recorder)
    assert sent == [
        {
            "type": "feed.status",
            "connected": True,
            "last_message_at": (NOW - timedelta(seconds=2.5)).isoformat(),
            "reconnects": 0,
        }
    ]
    clock.now += STATUS_EVERY - 1
    record(recorder)
    assert len(sent) == 1  # a busy feed does not flood the dashboard
    clock.now += 1
    record(recorder)
    assert len(sent) == 2


def test_the_feed_tells_a_drop_and_a_reconnection_at_once(feed, sent, record):
    recorder, _ = feed
    state = recorder.connection.state
    state.connected = True
    record(recorder)  # connected, told

    async def drop_and_reconnect() -> None:
        state.connected = False  # as the connection does before telling its handler
        recorder.on_disconnected()
        await until(lambda: len(sent) == 2)
        state.connected, state.reconnects = True, 1
        recorder.on_subscribed(Channel.ORDERBOOK, 1)
        recorder.on_subscribed(Channel.TRADE, 2)  # the same connection: nothing new to tell
        await until(lambda: len(sent) == 3)
        await asyncio.sleep(0.1)

    asyncio.run(drop_and_reconnect())
    assert [(p["connected"], p["reconnects"]) for p in sent] == [(True, 0), (False, 0), (True, 1)]
    assert sent[1]["last_message_at"] is None  # no frame was ever heard


async def until(condition, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
