"""Reconciliation against the local exchange served over REST, through our real client: each fill once, every order's
outcome settled, the ledger's cash equal to the exchange's balance to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command

from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from markets.schemas.enums import BookSide
from markets.tests.factories import MarketFactory
from trading.accounting import FillReport, account_for, record_fills
from trading.fees import FeeSchedule
from trading.models import Account, Difference, Fill, Order, Position, Reconciliation, Settlement
from trading.reconcile import reconcile, reconcile_paper
from trading.tests.exchange import MEMBER, serving
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

M = "KXHIGHNY-25FEB20-B44.5"
M2 = "KXHIGHNY-25FEB20-B46.5"
D = Decimal
NOW = datetime(2025, 2, 20, 15, tzinfo=UTC)
Kind = Difference.Kind


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def exchange() -> Exchange:
    """Two markets; we have $100 there (and in our ledger); a maker offers 10 YES of M at $0.40 (ord-1)."""
    venue = Exchange()
    for ticker in (M, M2):
        venue.open_market(ticker, FeeSchedule("quadratic", D(1)))
        MarketFactory.create(ticker=ticker)
    venue.deposit(MEMBER, D(100))
    venue.deposit("maker", D(1000))
    venue.place(NewOrder("maker", M, BookSide.ASK, D("0.40"), D(10)), at=NOW - timedelta(hours=4))
    account_for("DEMO")
    Account.objects.filter(mode="DEMO").update(cash=D(100))
    return venue


def ours(client_order_id: str, *, status: str = Order.Status.UNKNOWN, age: timedelta, **fields: Any) -> Order:
    """Our order row for an intent sent ``age`` before NOW: by default a create that timed out (no exchange id)."""
    fields = {"book_side": "bid", "price": D("0.45"), "count": D(3), "remaining_count": D(3), **fields}
    return OrderFactory.create(
        client_order_id=client_order_id, mode="DEMO", market=None, ticker=fields.pop("ticker", M), event_ticker="",
        status=status, created_at=NOW - age, submitted_at=NOW - age, updated_at=NOW - age, **fields,
    )  # fmt: skip


def place(venue: Exchange, client_order_id: str, *, age: timedelta, **fields: Any) -> str:
    """Place our order at the exchange directly (what a request that timed out did); returns its order id."""
    fields = {"ticker": M, "side": BookSide.BID, "price": D("0.45"), "count": D(3), **fields}
    venue.place(NewOrder(MEMBER, client_order_id=client_order_id, **fields), at=NOW - age)
    return venue._client_ids[(MEMBER, client_order_id)]


def kinds(run: Reconciliation) -> list[str]:
    return sorted(run.found.values_list("kind", flat=True))


def cash() -> Decimal:
    return Account.objects.get(mode="DEMO").cash


def test_an_order_whose_create_timed_out_is_adopted_and_its_fills_booked_once(key, exchange):
    order = ours("kw-a", age=timedelta(minutes=5))
    exchange_id = place(exchange, "kw-a", age=timedelta(minutes=5))  # takes 3 YES at $0.40; fee $0.06

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)

    assert (run.complete, run.unresolved, run.orders_checked, run.fills_checked) == (True, 0, 1, 1)
    assert kinds(run) == [Kind.FILL_MISSING, Kind.ORDER_RESOLVED]
    order.refresh_from_db()
    assert (order.status, order.exchange_order_id, order.filled_count, order.remaining_count, order.fees) == (
        Order.Status.EXECUTED, exchange_id, D(3), D(0), D("0.06"),
    )  # fmt: skip
    (fill,) = Fill.objects.filter(mode="DEMO")
    assert (fill.order, fill.count, fill.price, fill.fee, fill.fee_known) == (order, D(3), D("0.40"), D("0.06"), True)
    assert Position.objects.get(mode="DEMO", ticker=M).contracts == D(3)
    assert cash() == D("98.74") == exchange.member(MEMBER).balance  # 100 - 3 x 0.40 - 0.06
    assert run.balance == D("98.74") and Account.objects.get(mode="DEMO").balance_checked_at == NOW
    resolved = run.found.get(kind=Kind.ORDER_RESOLVED)
    assert resolved.reference == "kw-a" and resolved.theirs.startswith("executed, 3 filled, 0 resting")


def test_reconciling_again_or_hearing_the_fills_from_the_feed_books_nothing_twice(key, exchange):
    ours("kw-b", age=timedelta(minutes=5))
    place(exchange, "kw-b", age=timedelta(minutes=5))

    with serving(exchange, key) as client:
        first = reconcile(client, mode="DEMO", now=NOW)
        second = reconcile(client, mode="DEMO", now=NOW + timedelta(minutes=1))
    feed = FillReport("trd-1", M, BookSide.BID, D("0.40"), D(3), None, True, NOW - timedelta(minutes=5))
    heard = record_fills([feed], mode="DEMO", now=NOW + timedelta(minutes=2))

    assert first.differences == 2 and first.complete
    assert (second.differences, second.fills_checked, second.orders_checked, second.complete) == (0, 1, 0, True)
    assert heard == [] and Fill.objects.filter(mode="DEMO").count() == 1
    assert cash() == D("98.74") == exchange.member(MEMBER).balance
    assert Position.objects.get(mode="DEMO", ticker=M).contracts == D(3)


def test_a_fill_the_feed_booked_before_a_gap_is_not_booked_again_and_its_fee_is_corrected(key, exchange):
    order = ours("kw-g", status=Order.Status.RESTING, age=timedelta(minutes=5), price=D("0.40"), count=D(12))
    exchange_id = place(exchange, "kw-g", age=timedelta(minutes=5), price=D("0.40"), count=D(12))
    Order.objects.filter(pk=order.pk).update(exchange_order_id=exchange_id)  # the broker's answer: resting
    (trade,) = exchange.fills_of(MEMBER, historical=False)  # took the maker's 10 at $0.40, 2 rest; fee $0.17
    # The WebSocket heard the fill (without its fee), then dropped; reconciliation reads it again over REST.
    heard = FillReport(trade.trade_id, M, BookSide.BID, D("0.40"), D(10), None, True, trade.at, exchange_id)
    assert len(record_fills([heard], mode="DEMO", now=NOW - timedelta(minutes=2))) == 1

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)

    assert run.complete and kinds(run) == [Kind.FILL_FEE, Kind.ORDER_STATE]  # no FILL_MISSING, no BALANCE
    fee = run.found.get(kind=Kind.FILL_FEE)
    assert (fee.reference, fee.ours, fee.theirs) == (trade.trade_id, "unknown (booked $0.00)", "$0.17")
    (fill,) = Fill.objects.filter(mode="DEMO")
    assert (fill.fee, fill.fee_known, fill.order_id) == (D("0.17"), True, order.pk)
    order.refresh_from_db()
    assert (order.status, order.filled_count, order.remaining_count, order.fees) == (
        Order.Status.RESTING, D(10), D(2), D("0.17"),
    )  # fmt: skip
    assert cash() == D("95.83") == exchange.member(MEMBER).balance  # 100 - 10 x 0.40 - 0.17


def test_fills_and_orders_older_than_the_historical_cutoff_are_found_in_history(key, exchange):
    old = ours("kw-old", age=timedelta(hours=3), count=D(2), remaining_count=D(2))
    place(exchange, "kw-old", age=timedelta(hours=3), count=D(2))  # 2 YES at $0.40, fee $0.04
    recent = ours("kw-new", age=timedelta(minutes=10), count=D(1), remaining_count=D(1))
    place(exchange, "kw-new", age=timedelta(minutes=10), count=D(1))  # 1 YES at $0.40, fee $0.02
    exchange.set_historical_cutoff(NOW - timedelta(hours=1))

    with serving(exchange, key) as client:
        assert len(list(client.iter_fills())) == 1  # the old fill is history only
        run = reconcile(client, mode="DEMO", now=NOW)

    assert (run.complete, run.fills_checked) == (True, 2)
    assert kinds(run) == [Kind.FILL_MISSING, Kind.FILL_MISSING, Kind.ORDER_RESOLVED, Kind.ORDER_RESOLVED]
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.filled_count, old.fills.count()) == (Order.Status.EXECUTED, D(2), 1)
    assert (recent.status, recent.filled_count, recent.fills.count()) == (Order.Status.EXECUTED, D(1), 1)
    assert Position.objects.get(mode="DEMO", ticker=M).contracts == D(3)
    assert cash() == D("98.74") == exchange.member(MEMBER).balance  # 100 - 1.20 - 0.04 - 0.02


def test_an_order_the_exchange_never_got_is_canceled_after_the_grace_and_unresolved_before(key, exchange):
    lost = ours("kw-lost", age=timedelta(minutes=5))
    young = ours("kw-young", status=Order.Status.PENDING, age=timedelta(seconds=20))

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)
        later = reconcile(client, mode="DEMO", now=NOW + timedelta(minutes=2))

    assert (run.complete, run.unresolved, run.orders_checked) == (False, 1, 2)
    assert kinds(run) == [Kind.ORDER_NOT_PLACED]
    assert "kw-young: not at the exchange yet, sent 20s ago" in run.detail
    lost.refresh_from_db()
    assert lost.status == Order.Status.CANCELED and "never reached the exchange" in lost.reason
    assert run.found.get().reference == "kw-lost"
    assert (later.complete, later.unresolved, kinds(later)) == (True, 0, [Kind.ORDER_NOT_PLACED])
    young.refresh_from_db()
    assert young.status == Order.Status.CANCELED
    assert cash() == D(100) and not Fill.objects.exists()


def test_a_settlement_after_fills_leaves_our_cash_equal_to_the_exchange_balance(key, exchange):
    ours("kw-s", age=timedelta(minutes=30))
    place(exchange, "kw-s", age=timedelta(minutes=30))  # 3 YES at $0.40, fee $0.06
    exchange.settle(M, "yes", at=NOW - timedelta(minutes=5))

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)
        again = reconcile(client, mode="DEMO", now=NOW + timedelta(minutes=1))

    assert run.complete and kinds(run) == [Kind.FILL_MISSING, Kind.ORDER_RESOLVED, Kind.SETTLEMENT_MISSING]
    settlement = Settlement.objects.get(mode="DEMO", ticker=M)
    assert (settlement.result, settlement.yes_count, settlement.cost, settlement.revenue, settlement.fees) == (
        "yes", D(3), D("1.20"), D(3), D(0),
    )  # fmt: skip
    assert settlement.settled_time == NOW - timedelta(minutes=5)
    position = Position.objects.get(mode="DEMO", ticker=M)
    assert (position.contracts, position.settled, position.realized_pnl) == (D(0), True, D("1.74"))
    assert cash() == D("101.74") == exchange.member(MEMBER).balance  # 100 - 1.26 + 3
    assert again.differences == 0 and Settlement.objects.count() == 1


def test_a_balance_difference_is_recorded_and_fixed(key, exchange):
    exchange.deposit(MEMBER, D("25.50"))  # a deposit our ledger never heard of

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)
        again = reconcile(client, mode="DEMO", now=NOW + timedelta(minutes=1))

    (difference,) = run.found.all()
    assert (difference.kind, difference.ours, difference.theirs) == (Kind.BALANCE, "$100.00", "$125.50")
    assert "+$25.50" in difference.fix
    assert (run.complete, run.balance, cash()) == (True, D("125.50"), D("125.50"))
    assert again.differences == 0


def test_an_exchange_order_we_do_not_know_is_recorded_and_its_fills_still_booked(key, exchange):
    place(exchange, "someone-else", age=timedelta(minutes=5), count=D(1))  # 1 YES at $0.40, fee $0.02

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)

    assert kinds(run) == [Kind.FILL_MISSING, Kind.ORDER_MISSING] and run.complete
    missing = run.found.get(kind=Kind.ORDER_MISSING)
    assert missing.reference == "someone-else" and missing.theirs.startswith("executed, 1 filled")
    assert not Order.objects.exists()
    (position,) = Position.objects.filter(mode="DEMO")
    assert position.contracts == D(1) and cash() == D("99.58") == exchange.member(MEMBER).balance


def test_a_position_the_exchange_does_not_have_is_recorded_not_overwritten(key, exchange):
    phantom = FillReport("trd-999", M2, BookSide.ASK, D("0.70"), D(4), D("0.06"), True, NOW - timedelta(hours=1))
    record_fills([phantom], mode="DEMO", now=NOW - timedelta(hours=1))  # 4 NO at $0.30 the exchange never saw

    with serving(exchange, key) as client:
        run = reconcile(client, mode="DEMO", now=NOW)

    assert kinds(run) == [Kind.BALANCE, Kind.POSITION] and run.complete
    position = run.found.get(kind=Kind.POSITION)
    assert (position.ticker, position.ours, position.theirs) == (M2, "4 NO", "0 YES")
    assert Position.objects.get(mode="DEMO", ticker=M2).contracts == D(-4)  # left for a person to explain
    balance = run.found.get(kind=Kind.BALANCE)
    assert (balance.ours, balance.theirs, cash()) == ("$98.74", "$100.00", D(100))


def test_an_exchange_error_leaves_the_reconciliation_incomplete_without_raising(key, exchange):
    ours("kw-e", age=timedelta(minutes=5))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with serving(exchange, key, signing_key=stranger) as client:  # every request refused: 401
        run = reconcile(client, mode="DEMO", now=NOW)

    assert (run.complete, run.unresolved) == (False, 1)
    assert "stopped by an exchange error" in run.detail
    assert Order.objects.get().status == Order.Status.UNKNOWN and cash() == D(100)


def test_the_command_prints_a_summary(key, exchange, settings, monkeypatch):
    ours("kw-c", age=timedelta(minutes=5))
    place(exchange, "kw-c", age=timedelta(minutes=5))
    settings.TRADING_MODE = "DEMO"
    out = StringIO()
    with serving(exchange, key) as client:
        monkeypatch.setattr("trading.management.commands.reconcile.kalshi_client", lambda: client)
        call_command("reconcile", "--mode", "DEMO", stdout=out)

    text = out.getvalue()
    assert "[DEMO] reconciliation at" in text and ": complete" in text
    assert "1 working orders and 1 fills checked; 2 differences" in text
    assert "balance: $98.74" in text and "Fill missing from our ledger: 1" in text


def test_the_paper_ledger_is_checked_against_its_own_fills():
    market = MarketFactory.create(ticker=M)
    account_for("DRY")
    start = Account.objects.get(mode="DRY").cash
    fill = FillReport("p-1", market.ticker, BookSide.BID, D("0.40"), D(5), D("0.09"), True, NOW)
    record_fills([fill], mode="DRY", now=NOW)

    clean = reconcile_paper(NOW)
    Account.objects.filter(mode="DRY").update(cash=start)  # as if the fill's cost never left the cash
    dirty = reconcile_paper(NOW + timedelta(minutes=1))

    assert (clean.complete, clean.differences, clean.fills_checked, clean.balance) == (True, 0, 1, start - D("2.09"))
    (difference,) = dirty.found.all()
    assert difference.kind == Kind.BALANCE and difference.ours == f"${start:,.2f}"
    out = StringIO()
    call_command("reconcile", "--mode", "DRY", stdout=out)
    assert "[DRY]" in out.getvalue() and "Balance differs: 1" in out.getvalue()
