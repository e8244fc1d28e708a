"""The kill switch trips by itself: daily loss, drawdown, stale forecasts or books, the exchange not trading, and
repeated exchange errors. Tripping halts trading, cancels working orders, and the cycle says why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kalshiweb.modes import TradingMode
from markets.errors import ExchangeUnavailable
from markets.schemas.books import ExchangeStatus
from markets.schemas.enums import BookSide
from trading.accounting import FillReport, account_for, record_fills
from trading.brokers import KalshiBroker, PaperBroker
from trading.cycle import run_cycle
from trading.models import Account, Order, RiskLimits, TradingState, TradingStateChange
from trading.services import resume_trading
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, World, book, build_world, predict, quiet_books

pytestmark = pytest.mark.django_db

D = Decimal


class ClosedExchange(PaperBroker):
    def trading_active(self) -> bool | None:
        return False


@pytest.fixture
def world() -> World:
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    return world


def resting(world: World) -> Order:
    return OrderFactory.create(
        market=world.low, mode="DRY", status=Order.Status.RESTING, book_side="bid", price=D("0.05"), count=D(2),
        exchange_order_id="paper-x", submitted_at=NOW - timedelta(minutes=1), post_only=True,
    )  # fmt: skip


def tripped_by(world: World, broker: PaperBroker | None = None) -> tuple[str, str]:
    order = resting(world)
    cycle = run_cycle(broker or PaperBroker(), now=NOW)
    state = TradingState.load()
    order.refresh_from_db()
    assert state.state == TradingState.State.HALTED and cycle.outcome == "skipped"
    assert order.status == Order.Status.CANCELED and "kill switch" in order.reason
    assert not Order.objects.exclude(pk=order.pk).exists()  # nothing new was placed
    assert TradingStateChange.objects.filter(to_state="halted", actor=state.changed_by).exists()
    return state.changed_by, cycle.detail


def test_a_day_losing_the_limit_trips_it(world):
    # Bought 100 YES at $0.60 and sold them back at $0.05 today: $55 lost, over the $50 limit.
    record_fills(
        [
            FillReport("t1", world.high.ticker, BookSide.BID, D("0.60"), D(100), D(0), True, NOW - timedelta(hours=2)),
            FillReport("t2", world.high.ticker, BookSide.ASK, D("0.05"), D(100), D(0), True, NOW - timedelta(hours=1)),
        ],
        mode="DRY",
        now=NOW,
    )
    actor, detail = tripped_by(world)
    assert actor == "system:daily_loss" and "daily loss $55.00 reached the limit $50.00" in detail


def test_a_drawdown_from_the_peak_trips_it(world):
    account_for("DRY")
    Account.objects.filter(mode="DRY").update(peak_equity=D(1200))  # $1,000 now: $200 down, limit $150
    actor, detail = tripped_by(world)
    assert actor == "system:drawdown" and "drawdown $200.00" in detail


def test_repeated_exchange_errors_trip_it(world):
    account_for("DRY")
    Account.objects.filter(mode="DRY").update(consecutive_errors=5)
    actor, detail = tripped_by(world)
    assert actor == "system:exchange_errors" and "5 exchange errors in a row" in detail


def test_the_exchange_not_trading_trips_it(world):
    actor, detail = tripped_by(world, ClosedExchange())
    assert actor == "system:exchange_inactive" and "trading_active=false" in detail


def test_stale_books_trip_it(world):
    later = NOW + timedelta(hours=7)  # books stored at NOW; the limit is 6 hours
    predict(world, ("0.10", "0.75", "0.15"), at=later - timedelta(minutes=5))
    resting(world)
    cycle = run_cycle(PaperBroker(), now=later)
    assert TradingState.load().changed_by == "system:stale_books" and "no order book" in cycle.detail


def test_stale_forecasts_trip_it_for_a_strategy_on_the_model_only(world):
    later = NOW + timedelta(hours=7)
    for market in world.markets:
        book(market, yes=[("0.30", "10")], no=[("0.60", "10")], at=later)
    run_cycle(PaperBroker(), now=later)  # model-taker: its forecasts are 7 hours old
    assert TradingState.load().changed_by == "system:stale_forecasts"


def test_the_control_strategy_is_not_stopped_by_old_forecasts(world):
    from trading.strategies import strategy_named

    later = NOW + timedelta(hours=7)
    for market in world.markets:
        book(market, yes=[("0.30", "10")], no=[("0.60", "10")], at=later)
    cycle = run_cycle(PaperBroker(), now=later, strategy=strategy_named("longshot-yes"))
    assert cycle.outcome == "done" and TradingState.load().state == TradingState.State.ACTIVE


class StatusClient:
    """Answers GET /exchange/status as told (the local exchange does not serve it)."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    def get_exchange_status(self) -> ExchangeStatus:
        if isinstance(self.answer, Exception):
            raise self.answer
        assert isinstance(self.answer, ExchangeStatus)
        return self.answer


@pytest.mark.parametrize(
    ("answer", "active"),
    [
        (ExchangeStatus(exchange_active=True, trading_active=True, estimated_resume_time=None), True),
        (ExchangeStatus(exchange_active=True, trading_active=False, estimated_resume_time=None), False),
        (ExchangeStatus(exchange_active=False, trading_active=True, estimated_resume_time=None), False),
        (ExchangeUnavailable("exchange error", status=503), None),  # unknown is not "off"
    ],
)
def test_the_kalshi_broker_reads_whether_the_exchange_trades(answer, active):
    broker = KalshiBroker(StatusClient(answer), mode=TradingMode.DEMO)  # type: ignore[arg-type]
    assert broker.trading_active() is active
