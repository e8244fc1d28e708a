"""The trading counters: cycles and their errors, risk blocks, orders by outcome, fills and contracts.

Each is counted through a ``count_*`` function that waits for the
transaction to commit (at once outside one): a cycle, order or fill rolled
back never happened, so it must not be counted either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from prometheus_client import Counter

TRADING_CYCLES = Counter("kalshiweb_trading_cycles_total", "Trading cycles run", ["mode"])
TRADING_CYCLE_ERRORS = Counter(
    "kalshiweb_trading_cycle_errors_total", "Trading cycles that raised or recorded an error", ["mode"]
)
RISK_BLOCKS = Counter(
    "kalshiweb_risk_blocks_total", "Decisions blocked by risk, once for each rule that refused", ["mode", "rule"]
)
ORDERS = Counter("kalshiweb_orders_total", "Orders by what became of them", ["mode", "outcome"])
ORDER_OUTCOMES = ("placed", "rejected", "cancelled", "failed")
FILLS = Counter("kalshiweb_fills_total", "Fills booked", ["mode"])
FILL_CONTRACTS = Counter("kalshiweb_fill_contracts_total", "Contracts filled", ["mode"])
# A refusal recorded without the rule behind it (there should be none) is still a block.
UNNAMED_RULE = "unnamed"


def count_cycle(mode: str, *, failed: bool) -> None:
    """One cycle run; ``failed`` when it raised or recorded an error."""

    def count() -> None:
        TRADING_CYCLES.labels(mode).inc()
        if failed:
            TRADING_CYCLE_ERRORS.labels(mode).inc()

    transaction.on_commit(count)


def count_risk_blocks(mode: str, blocks: Iterable[Sequence[str]]) -> None:
    """Decisions risk refused, each given as the rules that refused it."""
    rules = [rule for refused_by in blocks for rule in (refused_by or [UNNAMED_RULE])]

    def count() -> None:
        for rule in rules:
            RISK_BLOCKS.labels(mode, rule).inc()

    if rules:
        transaction.on_commit(count)


def count_orders(mode: str, outcomes: Iterable[str]) -> None:
    """What became of orders: each outcome one of ORDER_OUTCOMES."""
    counted = list(outcomes)

    def count() -> None:
        for outcome in counted:
            ORDERS.labels(mode, outcome).inc()

    if counted:
        transaction.on_commit(count)


def count_fills(mode: str, contracts: Sequence[Decimal]) -> None:
    """Fills booked, given as the contracts of each (a float is fine here: a count, not money)."""
    if not contracts:
        return

    def count() -> None:
        FILLS.labels(mode).inc(len(contracts))
        FILL_CONTRACTS.labels(mode).inc(float(sum(contracts, Decimal(0))))

    transaction.on_commit(count)
