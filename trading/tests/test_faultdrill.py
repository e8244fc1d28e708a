"""The fault drill: a bounded run keeps the books through a thousand faults, and its checks do catch a broken ledger."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from localexchange.exchange import FillRecord, OrderRecord
from markets.schemas.enums import BookSide
from trading.drill.checks import Ledger, OurFill, OurOrder, Record, check
from trading.limits import Limits

D = Decimal
AT = datetime(2025, 2, 28, 15, tzinfo=UTC)
TICKER = "KXHIGHNY-25FEB28-B40.5"


def number(report: str, label: str) -> int:
    found = re.search(rf"{label}\s+([\d,]+)", report)
    assert found, f"no {label!r} in the report:\n{report}"
    return int(found.group(1).replace(",", ""))


@pytest.mark.slow
def test_a_bounded_drill_injects_a_thousand_faults_and_keeps_the_books(django_db_blocker):
    """In its own throwaway database (hence no django_db): it must not need, nor touch, the test database."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("faultdrill", "--minutes", "0.2", "--seed", "11", "--faults-min", "1000", stdout=out)
    report = out.getvalue()
    assert number(report, "faults injected") >= 1000, report
    assert number(report, "orders sent") > 0 and number(report, "fills") > 0, report
    for must_be_zero in ("duplicate orders", "lost fills", "double-counted fills", "limit breaches",
                         "reconciliation differences"):  # fmt: skip
        assert number(report, must_be_zero) == 0, report
    assert "closing reconciliation complete: yes" in report and report.rstrip().endswith("PASSED")


# The checks, fed a ledger that agrees with the exchange, then broken one way at a time.


def exchange_order(order_id: str, client_order_id: str, count: str = "5", price: str = "0.40") -> OrderRecord:
    return OrderRecord(
        order_id, "bot", TICKER, BookSide.BID, D(price), D(count), client_order_id, AT, filled=D(count),
        status="executed",
    )  # fmt: skip


def exchange_fill(trade_id: str, order_id: str, count: str = "5", minutes: int = 0) -> FillRecord:
    return FillRecord(trade_id, order_id, "bot", TICKER, BookSide.BID, D("0.40"), D(count), True, D("0.09"),
                      AT + timedelta(minutes=minutes))  # fmt: skip


def agreeing() -> tuple[Record, Ledger]:
    record = Record(
        orders=[exchange_order("ord-1", "kw-1"), exchange_order("ord-2", "kw-2")],
        fills=[exchange_fill("trd-1", "ord-1"), exchange_fill("trd-2", "ord-2", minutes=1)],
        positions={TICKER: D(10)},
        balance=D("995.82"),
        events={TICKER: "KXHIGHNY-25FEB28"},
    )
    ledger = Ledger(
        orders=[OurOrder(c, o, resting=False, unresolved=False, remaining=D(0)) for o, c in
                (("ord-1", "kw-1"), ("ord-2", "kw-2"))],
        fills=[OurFill("trd-1", TICKER, D(5)), OurFill("trd-2", TICKER, D(5))],
        positions={TICKER: D(10)},
        cash=D("995.82"),
    )  # fmt: skip
    return record, ledger


LIMITS = Limits(max_order_contracts=D(10), max_position_contracts=D(12))


def test_a_ledger_that_agrees_with_the_exchange_finds_nothing():
    record, ledger = agreeing()
    assert check(record, ledger, LIMITS).clean


def test_a_fill_booked_twice_is_double_counted_and_one_missing_is_lost():
    record, ledger = agreeing()
    doubled = Ledger(ledger.orders, [*ledger.fills, ledger.fills[0]], ledger.positions, ledger.cash)
    findings = check(record, doubled, LIMITS)
    assert (
        findings.counts["double-counted fills"] >= 1 and "trade trd-1 booked 2 times" in findings.double_counted_fills
    )
    lost = Ledger(ledger.orders, ledger.fills[:1], ledger.positions, ledger.cash)
    assert check(record, lost, LIMITS).lost_fills == [f"{TICKER} trade trd-2 (5 contracts) is not in our ledger"]
    invented = Ledger(ledger.orders, [*ledger.fills, OurFill("trd-9", TICKER, D(1))], ledger.positions, ledger.cash)
    assert check(record, invented, LIMITS).counts["double-counted fills"] == 2  # not at the exchange; too many


def test_an_order_placed_twice_under_one_client_order_id_is_a_duplicate():
    record, ledger = agreeing()
    twice = Record([*record.orders, exchange_order("ord-3", "kw-2", count="0")], record.fills, record.positions,
                   record.balance, record.events)  # fmt: skip
    assert check(record, ledger, LIMITS).duplicate_orders == []
    assert check(twice, ledger, LIMITS).duplicate_orders == ["client order id kw-2 placed 2 times"]
    stranger = Record([*record.orders, exchange_order("ord-4", "not-ours")], record.fills, record.positions,
                      record.balance, record.events)  # fmt: skip
    assert check(stranger, ledger, LIMITS).counts["duplicate orders"] == 1


def test_a_position_or_an_order_past_its_limit_is_a_breach():
    record, ledger = agreeing()
    tighter = Limits(max_order_contracts=D(4), max_position_contracts=D(8), max_event_exposure=D(3))
    breaches = check(record, ledger, tighter).limit_breaches
    assert "order kw-1: 5 contracts > 4" in breaches and "order kw-2: 5 contracts > 4" in breaches
    assert f"{TICKER} after trade trd-2: 10 contracts held" in breaches
    assert "KXHIGHNY-25FEB28 after trade trd-2: $4.00 at cost" in breaches
    settled_between = Record(record.orders, record.fills, {}, record.balance, record.events,
                             settled=[(AT + timedelta(seconds=30), TICKER)])  # fmt: skip
    assert not any("held" in b for b in check(settled_between, ledger, tighter).limit_breaches)


def test_a_balance_position_or_resting_order_that_differs_after_reconciliation_is_counted():
    record, ledger = agreeing()
    richer = Ledger(ledger.orders, ledger.fills, ledger.positions, ledger.cash + D("0.01"))
    assert check(record, richer, LIMITS).reconciliation_differences == ["cash: ours $995.83, the exchange's $995.82"]
    short = Ledger(ledger.orders, ledger.fills, {TICKER: D(9)}, ledger.cash)
    assert check(record, short, LIMITS).counts["reconciliation differences"] == 1
    unknown = OurOrder("kw-3", "", resting=False, unresolved=True, remaining=D(0))
    resting = OurOrder("kw-4", "ord-9", resting=True, unresolved=False, remaining=D(2))
    open_orders = Ledger([*ledger.orders, unknown, resting], ledger.fills, ledger.positions, ledger.cash)
    assert check(record, open_orders, LIMITS).counts["reconciliation differences"] == 2
