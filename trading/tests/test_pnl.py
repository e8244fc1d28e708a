"""P&L history from the ledger: by UTC day, ISO week and month, by city and strategy; the equity curve."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from markets.schemas.enums import BookSide
from trading import pnl
from trading.accounting import FillReport, account_for, correct_fee, record_fills
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.models import Fill, RiskLimits, TradingCycle
from trading.services import resume_trading
from trading.tests.ledgers import MODE, at, build_ledger, buy, grow, settle
from trading.tests.world import NOW, build_world, quiet_books

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the report is cached per ledger version; another test's ledger may look the same


@pytest.fixture
def ledger():
    return build_ledger()


def rows(periods):
    return [(p.label, p.trading, p.settled, p.fees, p.fills, p.settlements) for p in periods]


def test_realised_pnl_by_utc_day(ledger):
    assert rows(pnl.daily(MODE)) == [
        ("2025-02-27", D("-0.20"), D(0), D("0.20"), 1, 0),
        ("2025-02-28", D("-0.10"), D(0), D("0.10"), 1, 0),
        ("2025-03-01", D("0.27"), D("1.48"), D("0.05"), 1, 2),
        ("2025-03-03", D("-0.06"), D(0), D("0.06"), 1, 0),  # 01:00 UTC: still 03-02 in New York, 03-03 in UTC
        ("2025-03-04", D(0), D("-0.90"), D(0), 0, 1),
    ]


def test_weeks_and_months_roll_up_the_days(ledger):
    days = pnl.daily(MODE)
    assert [(w.label, w.start, w.total) for w in pnl.weekly(days)] == [
        ("2025-W09", date(2025, 2, 24), D("1.45")),
        ("2025-W10", date(2025, 3, 3), D("-0.96")),
    ]
    assert [(m.label, m.total) for m in pnl.monthly(days)] == [("2025-02", D("-0.30")), ("2025-03", D("0.79"))]
    overall = pnl.total(days)
    assert (overall.total, overall.fees, overall.fills, overall.settlements) == (D("0.49"), D("0.41"), 4, 3)


def test_the_total_is_what_the_cash_moved(ledger):
    assert account_for(MODE).cash - D(1000) == pnl.total(pnl.daily(MODE)).total == D("0.49")


def test_by_city_with_markets_won_and_lost(ledger):
    cities = [(c.name, c.trading, c.settled, c.total, c.fees, c.wins, c.losses) for c in pnl.by_city(MODE)]
    assert cities == [
        ("Testville", D("-0.03"), D("1.48"), D("1.45"), D("0.35"), 1, 1),
        ("Otherville", D("-0.06"), D("-0.90"), D("-0.96"), D("0.06"), 0, 1),
    ]


def test_by_strategy_settlements_count_for_the_strategy_that_held_the_market(ledger):
    strategies = [(s.name, s.trading, s.settled, s.total, s.wins, s.losses) for s in pnl.by_strategy(MODE)]
    assert strategies == [
        ("model-taker", D("0.01"), D("2.58"), D("2.59"), 1, 1),
        ("model-maker", D("-0.10"), D("-2.00"), D("-2.10"), 0, 1),
    ]


def test_the_equity_curve_walks_back_from_todays_equity_and_finds_the_worst_drawdown(ledger):
    report = pnl.report(MODE)
    assert (report.cash, report.equity) == (D("1000.49"), D("1000.49"))
    assert [(p.day, p.equity) for p in report.curve] == [
        (date(2025, 2, 26), D("1000.00")),
        (date(2025, 2, 27), D("999.80")),
        (date(2025, 2, 28), D("999.70")),
        (date(2025, 3, 1), D("1001.45")),
        (date(2025, 3, 3), D("1001.39")),
        (date(2025, 3, 4), D("1000.49")),
    ]
    worst = report.drawdown
    assert (worst.amount, worst.peak, worst.trough) == (D("0.96"), date(2025, 3, 1), date(2025, 3, 4))
    assert worst.fraction == D("0.96") / D("1001.45")
    assert (report.wins, report.losses) == (1, 2)


def test_no_ledger_is_no_history():
    report = pnl.report(MODE)
    assert (report.days, report.curve, report.cities, report.balances) == ([], [], [], [])
    assert report.drawdown.amount == 0 and report.overall.total == 0 and report.equity == D(1000)


def test_a_drawdown_from_a_non_positive_peak_has_no_fraction():
    points = [pnl.EquityPoint(date(2025, 1, d), D(v)) for d, v in ((1, "0"), (2, "-5"), (3, "2"))]
    assert pnl.max_drawdown(points) == pnl.Drawdown(D(5), None, date(2025, 1, 1), date(2025, 1, 2))


def test_each_cycle_records_the_cash_and_equity_it_leaves_and_the_last_of_a_day_is_its_balance():
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    run_cycle(PaperBroker(), now=NOW)
    run_cycle(PaperBroker(), now=NOW + timedelta(minutes=1))
    cycles = list(TradingCycle.objects.order_by("as_of"))
    account = account_for(MODE)
    assert cycles[-1].cash == account.cash < D(1000)  # the cycle bought
    assert cycles[-1].equity == pnl.equity_now(MODE)[1]
    assert pnl.recorded_balances(MODE) == [pnl.BalancePoint(NOW.date(), cycles[-1].cash, cycles[-1].equity)]


def test_a_report_costs_the_same_queries_for_a_week_or_a_month_of_trading(ledger, django_assert_num_queries):
    grow(3)
    with django_assert_num_queries(QUERIES):
        small = pnl.compute_report(MODE)
    grow(30, first=3)
    with django_assert_num_queries(QUERIES):
        large = pnl.compute_report(MODE)
    assert len(large.days) == len(small.days) + 30  # a round trip a day
    assert len(large.cities) == 2 + 33


# Fills and settlements by day (2), the account and its open cost (2), by city and by strategy (3 each), balances.
QUERIES = 11
VERSION_QUERIES = 4  # the account, and the newest fill, settlement and recording cycle


def test_the_report_is_summed_again_only_when_the_ledger_changed(ledger, django_assert_num_queries):
    _, away = ledger
    first = pnl.report(MODE)
    with django_assert_num_queries(VERSION_QUERIES):
        assert pnl.report(MODE) == first
    buy(away.low, BookSide.BID, "0.10", 2, "0.01", at(3, 5, 15), strategy="model-taker", trade_id="later")
    with django_assert_num_queries(VERSION_QUERIES + QUERIES):
        after_fill = pnl.report(MODE)
    assert after_fill.overall.total == first.overall.total - D("0.01")
    settle(away.low, "yes", at(3, 6, 13))
    assert pnl.report(MODE).overall.total == first.overall.total - D("0.01") + D("1.80")
    TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 7, 1), cash=D(1), equity=D(2))
    assert pnl.report(MODE).balances == [pnl.BalancePoint(date(2025, 3, 7), D(1), D(2))]


def test_a_fee_correction_is_a_new_version(ledger):
    first = pnl.report(MODE)
    fill = Fill.objects.get(trade_id="t4")
    correct_fee(fill, D("0.10"), now=at(3, 3, 1))  # now the same as the fill's: only the money tells them apart
    assert pnl.report(MODE).overall.total == first.overall.total - D("0.04")


def test_the_balance_of_a_day_is_its_last_recorded_cycle():
    def cycle(when, cash, held, strategy="model-taker", mode=MODE):
        TradingCycle.objects.create(mode=mode, strategy=strategy, as_of=when, cash=D(cash), equity=D(held))

    cycle(at(3, 1, 9), "990", "1000")
    cycle(at(3, 1, 23, 59), "980", "1001")  # the day's last
    cycle(at(3, 2, 0, 1), "985", "1002")
    cycle(at(3, 2, 12), "970", "1003")
    cycle(at(3, 2, 13), "1", "1", mode="DEMO")  # another mode's
    TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 2, 14))  # skipped: recorded nothing
    assert pnl.recorded_balances(MODE) == [
        pnl.BalancePoint(date(2025, 3, 1), D(980), D(1001)),
        pnl.BalancePoint(date(2025, 3, 2), D(970), D(1003)),
    ]


def test_a_fill_of_no_order_and_one_of_an_order_without_a_strategy_are_one_unnamed_group():
    world = build_world()
    buy(world.low, BookSide.BID, "0.10", 1, "0.01", at(3, 1, 10), strategy="", trade_id="s1")
    elsewhere = FillReport("x1", world.mid.ticker, BookSide.BID, D("0.20"), D(2), D("0.02"), True, at(3, 1, 11))
    record_fills([elsewhere], mode=MODE, now=at(3, 1, 11))
    [unnamed] = pnl.by_strategy(MODE)
    assert (unnamed.name, unnamed.trading, unnamed.fees, unnamed.fills) == ("", D("-0.03"), D("0.03"), 2)


def test_the_version_reads_one_row_of_each_table_by_an_index(ledger):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = pnl.ledger_version(MODE)
    TradingCycle.objects.create(mode=MODE, strategy="model-taker", as_of=at(3, 7, 1), cash=D(1), equity=D(2))
    assert pnl.ledger_version(MODE) != before
    with CaptureQueriesContext(connection) as captured:
        pnl.ledger_version(MODE)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                plan = " ".join(str(row[-1]) for row in cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}"))
                assert "TEMP B-TREE" not in plan, plan  # none sorts the mode's rows
