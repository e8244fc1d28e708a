"""Predictions to orders, fills, positions and, after settlement, P&L equal to the exchange's to the cent.

DEMO-like and LIVE-like runs trade through the Kalshi broker and our real
client against the local exchange served on loopback; the DRY run is the
paper broker's (trading.tests.test_paper). Reconciliation closes each run,
and must find nothing to fix in a ledger the run kept itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import override_settings

from kalshiweb.modes import TradingMode
from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from markets.client import KalshiClient
from markets.models import OrderBookSnapshot
from markets.schemas.enums import BookSide
from trading.accounting import account_for, record_settlement
from trading.brokers import BrokerUnavailable, broker_for
from trading.cycle import run_cycle
from trading.execution import cancel_working
from trading.fees import FeeSchedule
from trading.models import Account, Difference, Fill, Order, Position, Settlement, TradingState
from trading.reconcile import reconcile
from trading.services import resume_trading
from trading.tests.exchange import MEMBER, serving
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, World, build_world

pytestmark = pytest.mark.django_db

D = Decimal
BANKROLL = D(1000)


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def venue(world: World) -> Exchange:
    """The world's three brackets listed, with a maker quoting each (the middle one cheap against our forecast)."""
    exchange = Exchange()
    exchange.deposit(MEMBER, BANKROLL)
    exchange.deposit("maker", D(100_000))
    quotes = {world.low: ("0.08", "0.12"), world.mid: ("0.38", "0.42"), world.high: ("0.40", "0.44")}
    for market, (bid, ask) in quotes.items():
        exchange.open_market(market.ticker, FeeSchedule("quadratic", D(1)), event_ticker=world.event.event_ticker)
        exchange.place(NewOrder("maker", market.ticker, BookSide.BID, D(bid), D(50)), at=NOW - timedelta(hours=1))
        exchange.place(NewOrder("maker", market.ticker, BookSide.ASK, D(ask), D(30)), at=NOW - timedelta(hours=1))
    return exchange


def store_books(client: KalshiClient, world: World, at: datetime) -> None:
    """What the feed stores: each market's book as the exchange shows it."""
    for market in world.markets:
        book = client.get_orderbook(market.ticker)
        OrderBookSnapshot.objects.create(
            market=market,
            captured_at=at,
            source="rest",
            yes_bids=[[str(p), str(s)] for p, s in book.yes_bids],
            no_bids=[[str(p), str(s)] for p, s in book.no_bids],
        )


def trade_a_day(client: KalshiClient, exchange: Exchange, world: World, mode: TradingMode) -> dict[str, Any]:
    """Reconcile at start-up, run a cycle, settle at the exchange, reconcile: what each side then says."""
    started = reconcile(client, mode=mode.value, now=NOW - timedelta(minutes=1))
    store_books(client, world, NOW)
    cycle = run_cycle(broker_for(mode, client=client), now=NOW)
    after_trading = account_for(mode.value).cash
    for market, result in ((world.low, "no"), (world.mid, "yes"), (world.high, "no")):
        exchange.settle(market.ticker, result)
    closed = reconcile(client, mode=mode.value, now=NOW + timedelta(days=1))
    return {"started": started, "cycle": cycle, "after_trading": after_trading, "closed": closed}


def check_the_books_agree(exchange: Exchange, mode: TradingMode, run: dict[str, Any]) -> Order:
    assert run["started"].complete and list(run["started"].found.values_list("kind", flat=True)) == [
        Difference.Kind.BALANCE  # the first look at the account: its cash, $1,000.00
    ]
    cycle = run["cycle"]
    assert cycle.outcome == "done" and cycle.placed == 1, cycle.detail
    [order] = Order.objects.filter(mode=mode.value)
    assert order.status == Order.Status.EXECUTED and order.exchange_order_id
    fills = list(Fill.objects.filter(mode=mode.value))
    assert fills and all(f.order_id == order.pk and f.fee_known for f in fills)
    cost = sum((f.count * f.own_price for f in fills), D(0))
    fees = sum((f.fee for f in fills), D(0))
    contracts = sum((f.count for f in fills), D(0))
    assert contracts == order.filled_count > 0 and fees == order.fees > 0
    assert run["after_trading"] == BANKROLL - cost - fees  # our own ledger, before anyone reconciled it
    # After settlement the exchange's balance and ours agree to the cent, with nothing for reconciliation to fix.
    closed = run["closed"]
    assert closed.complete and not closed.found.exclude(kind=Difference.Kind.SETTLEMENT_MISSING).exists()
    settlement = Settlement.objects.get(mode=mode.value, ticker=order.ticker)
    assert settlement.revenue == contracts  # bought YES on the bracket that won: $1 each
    expected = BANKROLL - cost - fees + contracts
    assert account_for(mode.value).cash == exchange.member(MEMBER).balance == expected
    position = Position.objects.get(mode=mode.value, ticker=order.ticker)
    assert position.settled and position.realized_pnl == contracts - cost - fees
    return order


def test_a_demo_like_day_ends_with_our_pnl_equal_to_the_exchanges(key):
    world = build_world()
    exchange = venue(world)
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=2))
    with serving(exchange, key, mode=TradingMode.DEMO) as client:
        run = trade_a_day(client, exchange, world, TradingMode.DEMO)
    order = check_the_books_agree(exchange, TradingMode.DEMO, run)
    assert order.order_group_id == ""  # only LIVE orders join an order group
    assert not Order.objects.filter(mode="LIVE").exists() and not Order.objects.filter(mode="DRY").exists()


@override_settings(LIVE_TRADING_ARMED=True)
def test_a_live_like_day_trades_in_an_order_group_and_ends_equal_to_the_cent(key):
    world = build_world()
    exchange = venue(world)
    TradingState.objects.update_or_create(pk=1, defaults={"live_confirmed_at": NOW - timedelta(days=1)})
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=2))
    with serving(exchange, key, mode=TradingMode.LIVE) as client:
        run = trade_a_day(client, exchange, world, TradingMode.LIVE)
    order = check_the_books_agree(exchange, TradingMode.LIVE, run)
    group = Account.objects.get(mode="LIVE").order_group_id
    assert group and order.order_group_id == group
    assert exchange.orders[order.exchange_order_id].order_group_id == group


@pytest.mark.parametrize(
    ("armed", "confirmed", "missing"),
    [
        (False, True, "LIVE_TRADING_ARMED is not set"),
        (True, False, "no operator has confirmed LIVE trading"),
    ],
)
def test_live_refuses_to_trade_unless_armed_and_confirmed(key, armed, confirmed, missing):
    confirmed_at = NOW if confirmed else None
    TradingState.objects.update_or_create(pk=1, defaults={"live_confirmed_at": confirmed_at})
    live = serving(Exchange(), key, mode=TradingMode.LIVE)
    with override_settings(LIVE_TRADING_ARMED=armed), live as client, pytest.raises(BrokerUnavailable) as refused:
        broker_for(TradingMode.LIVE, client=client)
    assert missing in str(refused.value)


def test_live_without_a_key_says_so(key):
    TradingState.objects.update_or_create(pk=1, defaults={"live_confirmed_at": NOW})
    with override_settings(LIVE_TRADING_ARMED=True), serving(Exchange(), key, mode=TradingMode.LIVE) as client:
        unsigned = KalshiClient(type(client.config)(client.config.base_url, client.config.environment,
                                                    client.config.mode, signer=None))  # fmt: skip
        with pytest.raises(BrokerUnavailable, match="no usable Kalshi production API key"):
            broker_for(TradingMode.LIVE, client=unsigned)
        unsigned.close()


def test_halting_reaches_live_orders_even_when_live_may_no_longer_place(key):
    """Disarming LIVE must not strand what rests at the exchange: the kill switch still cancels it."""
    world = build_world()
    exchange = venue(world)
    TradingState.objects.update_or_create(pk=1, defaults={"live_confirmed_at": None})
    resting = exchange.place(NewOrder(MEMBER, world.mid.ticker, BookSide.BID, D("0.30"), D(5), client_order_id="kw-r"),
                             at=NOW)  # fmt: skip
    order = OrderFactory.create(
        client_order_id="kw-r", mode="LIVE", market=world.mid, book_side="bid", price=D("0.30"), count=D(5),
        status=Order.Status.RESTING, exchange_order_id=resting.order_id, submitted_at=NOW,
    )  # fmt: skip
    with override_settings(LIVE_TRADING_ARMED=True), serving(exchange, key, mode=TradingMode.LIVE) as client:
        broker = broker_for(TradingMode.LIVE, client=client, cancelling=True)
        assert cancel_working("LIVE", broker, now=NOW, reason="halted") == 1
        refused = broker.place(OrderFactory.build(mode="LIVE", market=world.mid), now=NOW)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED and exchange.orders[resting.order_id].status == "canceled"
    assert refused.status == Order.Status.REJECTED and "no operator has confirmed LIVE" in refused.reason


def test_a_dry_day_fills_and_ends_as_the_exchange_would_have_to_the_cent(key):
    """The paper broker takes from the books the exchange shows exactly as the exchange's matching takes."""
    world = build_world()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=2))
    results = {"yes": D(1), "no": D(0)}
    outcomes = ((world.low, "no"), (world.mid, "yes"), (world.high, "no"))

    def ledger(mode: str) -> tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal, Decimal]:
        fills = sorted((f.own_price, f.count, f.fee) for f in Fill.objects.filter(mode=mode))
        return fills, sum((p.realized_pnl for p in Position.objects.filter(mode=mode)), D(0)), account_for(mode).cash

    with serving(venue(world), key, mode=TradingMode.DEMO) as client:  # DRY reads the exchange's public books only
        store_books(client, world, NOW)
    dry = run_cycle(broker_for(TradingMode.DRY), now=NOW)
    for market, result in outcomes:
        record_settlement(market.ticker, mode="DRY", result=result, payout=results[result], settled_time=NOW, now=NOW)
    paper = ledger("DRY")
    Order.objects.filter(mode="DRY").delete()  # the same intents will be sent for real: their ids must be free

    exchange = venue(world)
    with serving(exchange, key, mode=TradingMode.DEMO) as client:
        run = trade_a_day(client, exchange, world, TradingMode.DEMO)
    real = ledger("DEMO")

    assert dry.placed == run["cycle"].placed == 1
    assert paper[0] == real[0] and paper[0]  # the same fills: prices, counts and fees
    assert paper[1] == real[1]  # the same P&L after settlement, to the cent
    assert paper[2] - D(settings.PAPER_BANKROLL) == real[2] - BANKROLL
