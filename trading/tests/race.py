"""Workers reserving at once: the scenario, runnable in-process (PostgreSQL) or as a script on a SQLite file.

SQLite's in-memory test database shares one cache between connections with
table locks that never wait, unlike a SQLite file in WAL mode with
IMMEDIATE transactions (what the product runs on); so on SQLite the test
runs :data:`SCRIPT` in a fresh interpreter against a fresh database file.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from django.db import connections

from markets.schemas.enums import BookSide, TimeInForce
from trading import execution
from trading.decisions import OrderIntent
from trading.models import Order, RiskLimits, TradingState
from trading.risk import at_risk
from trading.services import resume_trading
from trading.snapshot import build_snapshot
from trading.tests.world import NOW, build_world, quiet_books

D = Decimal
WORKERS = 4
SCRIPT = (
    "import django, json, sys; django.setup(); "
    "from django.core.management import call_command; call_command('migrate', verbosity=0); "
    "from trading.tests.race import race; sys.stdout.write(json.dumps(race()))"
)
LIMIT = D(5)  # one order of 10 YES at $0.42 fits ($4.37 with its fee); two do not


def race() -> dict[str, object]:
    """Set up the world, let WORKERS threads reserve the same-sized order at once; what was reserved."""
    world = build_world()
    quiet_books(world)
    limits = RiskLimits.load()
    limits.max_total_exposure = LIMIT
    limits.save()
    resume_trading(reason="test", actor="test", now=NOW)
    snapshot = build_snapshot(mode="DRY", now=NOW, limits=limits.limits(), status=TradingState.load().status)
    event = snapshot.events[0]
    market = next(m for m in event.markets if m.ticker == world.mid.ticker)
    barrier = threading.Barrier(WORKERS)
    errors: list[str] = []

    def reserve(n: int) -> None:
        try:
            barrier.wait()
            execution.reserve(
                intent(market.ticker, event.event_ticker, f"race-{n}"), mode="DRY", event=event, market=market,
                limits=snapshot.limits, status=snapshot.status, now=NOW,
            )  # fmt: skip
        except BaseException as exc:  # reported to the test
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reserve, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reserved = list(Order.objects.filter(mode="DRY"))
    exposure = sum((at_risk(intent(o.ticker, o.event_ticker, o.client_order_id), event, o.count, at=NOW)
                    for o in reserved), D(0))  # fmt: skip
    return {
        "errors": errors,
        "counts": sorted(str(o.count) for o in reserved),
        "exposure": str(exposure),
        "limit": str(LIMIT),
    }


def intent(ticker: str, event_ticker: str, client_order_id: str) -> OrderIntent:
    return OrderIntent(
        ticker=ticker, event_ticker=event_ticker, side=BookSide.BID, price=D("0.42"), count=D(10),
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL, post_only=False, client_order_id=client_order_id,
        strategy="test", reason="race",
    )  # fmt: skip
