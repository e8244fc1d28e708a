"""A realistic DRY ledger booked through trading.accounting, with its P&L worked out by hand below.

Testville (two brackets of one event) and Otherville, two strategies:

=================  ===============================================  ==================
when (UTC)         what                                             realised
=================  ===============================================  ==================
02-27 15:00        model-taker buys 10 YES mid @ 42¢, fee 20¢        -0.20
02-28 23:30        model-maker buys 5 YES high @ 40¢, fee 10¢        -0.10
03-01 02:00        model-taker sells 4 YES mid @ 50¢, fee 5¢         4 x (1 - .50) - 4 x .42 - .05 = +0.27
03-01 12:00        mid settles YES: 6 held at $2.52 pay $6           +3.48
03-01 12:00        high settles NO: 5 YES at $2.00 pay $0            -2.00
03-03 01:00        model-taker buys 3 YES Otherville @ 30¢, fee 6¢  -0.06 (still 03-02 in New York)
03-04 13:00        Otherville settles NO: 3 YES at 90¢ pay $0        -0.90
=================  ===============================================  ==================

Cash ends at $1,000.49 with nothing open: the $1,000 paper bankroll plus the $0.49 realised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from markets.models import Market
from markets.schemas.enums import BookSide
from trading.accounting import FillReport, record_fills, record_settlement
from trading.models import DecisionLogEntry, Order, TradingCycle
from trading.tests.factories import OrderFactory
from trading.tests.world import World, build_world

D = Decimal
MODE = "DRY"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def buy(
    market: Market,
    side: BookSide,
    yes_price: str,
    count: int,
    fee: str,
    when: datetime,
    *,
    strategy: str,
    trade_id: str,
    probability: float = 0.6,
) -> Order:
    """An order of ``strategy``, its decision logged by a cycle at ``when``, and its fill at ``when``."""
    order = OrderFactory.create(
        market=market, mode=MODE, book_side=side.value, price=D(yes_price), count=D(count), strategy=strategy,
        status=Order.Status.EXECUTED, created_at=when, client_order_id=f"kw-{trade_id}",
        decision={"probability": probability, "market_probability": 0.45, "yes_bid": "0.40", "yes_ask": yes_price},
        reason=f"p {probability} against the market's 0.45",
    )  # fmt: skip
    cycle, _ = TradingCycle.objects.get_or_create(mode=MODE, strategy=strategy, as_of=when)
    DecisionLogEntry.objects.create(
        cycle=cycle, mode=MODE, at=when, strategy=strategy, event_ticker=market.event.event_ticker,
        ticker=market.ticker, probability=probability, market_probability=0.45, yes_bid=D("0.40"),
        yes_ask=D(yes_price), side="yes" if side is BookSide.BID else "no", price=order.own_price,
        edge=D("0.15"), size=D(count), verdict=DecisionLogEntry.Verdict.ORDERED, reason=order.reason,
        client_order_id=order.client_order_id,
    )  # fmt: skip
    report = FillReport(trade_id, market.ticker, side, D(yes_price), D(count), D(fee), True, when,
                        client_order_id=order.client_order_id)  # fmt: skip
    record_fills([report], mode=MODE, now=when)
    return order


def settle(market: Market, result: str, when: datetime) -> None:
    market.result, market.settled_at = result, when
    market.save(update_fields=["result", "settled_at"])
    payout = D(1) if result == "yes" else D(0)
    record_settlement(market.ticker, mode=MODE, result=result, payout=payout, settled_time=when, now=when)


def build_ledger() -> tuple[World, World]:
    """The ledger of the module docstring; returns (Testville, Otherville)."""
    home = build_world()
    away = build_world(series="KXHIGHTEST2", city_name="Otherville")
    buy(
        home.mid,
        BookSide.BID,
        "0.42",
        10,
        "0.20",
        at(2, 27, 15),
        strategy="model-taker",
        trade_id="t1",
        probability=0.61,
    )
    buy(home.high, BookSide.BID, "0.40", 5, "0.10", at(2, 28, 23, 30), strategy="model-maker", trade_id="t2")
    buy(home.mid, BookSide.ASK, "0.50", 4, "0.05", at(3, 1, 2), strategy="model-taker", trade_id="t3")
    settle(home.mid, "yes", at(3, 1, 12))
    settle(home.high, "no", at(3, 1, 12))
    buy(away.mid, BookSide.BID, "0.30", 3, "0.06", at(3, 3, 1), strategy="model-taker", trade_id="t4")
    settle(away.mid, "no", at(3, 4, 13))
    return home, away


GROWTH_START = at(4, 1, 15)


def grow(days: int, *, first: int = 0) -> None:
    """``days`` more days of trading in new cities (a round trip a day), for counting queries at two sizes."""
    for n in range(first, first + days):
        world = build_world(series=f"KXHIGHGROW{n}", city_name=f"Growville {n}")
        when = GROWTH_START + timedelta(days=n)
        strategy = "model-taker" if n % 2 else f"strategy-{n}"
        buy(world.low, BookSide.BID, "0.20", 2, "0.02", when, strategy=strategy, trade_id=f"g{n}")
        settle(world.low, "no", when + timedelta(hours=6))
