"""How Kalshi markets settled: one market's resolution and payout, an event's winner and settled high.

The one reading of Kalshi's ``result``, ``settlement_value`` and
``expiration_value``: the settlement check, the prediction data set and the
backtester's settlement all decide outcomes here.

Pure: no Django.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from markets.units import settled_number


class Resolution(StrEnum):
    """How a market resolved, from Kalshi's ``result`` ("" until it is determined)."""

    YES = "yes"
    NO = "no"
    VOID = "void"
    SCALAR = "scalar"
    UNDETERMINED = "undetermined"


def resolution(result: str) -> Resolution:
    """Kalshi's ``result`` read; "" and any value Kalshi does not document are undetermined (nothing is paid)."""
    try:
        return Resolution(result)
    except ValueError:
        return Resolution.UNDETERMINED


def market_payout(result: str, settlement_value: Decimal | None) -> Decimal | None:
    """Dollars paid per YES contract: yes 1, no 0, void or scalar the settlement value if known; else None.

    None means the payout is not known yet (undetermined, or a void/scalar
    market whose settlement value was not reported): no position settles on it.
    """
    match resolution(result):
        case Resolution.YES:
            return Decimal(1)
        case Resolution.NO:
            return Decimal(0)
        case Resolution.VOID | Resolution.SCALAR:
            return settlement_value
        case Resolution.UNDETERMINED:
            return None


class SettledMarket(Protocol):
    """What the event outcome reads of a market (a markets.models.Market has it)."""

    @property
    def ticker(self) -> str: ...

    @property
    def result(self) -> str: ...

    @property
    def expiration_value(self) -> str: ...


@dataclass(frozen=True)
class EventOutcome:
    winner: str | None  # the ticker of the one market that resolved YES; None unless exactly one did
    settled_high: Decimal | None  # the value most of the markets with a result settled on
    conflict: tuple[Decimal, ...] = ()  # every value they settled on, in order, when they disagree


def event_outcome(markets: Iterable[SettledMarket]) -> EventOutcome:
    """An event's winner and settled high from its markets' results and expiration values.

    Only markets with a result count for the high. When they disagree (a
    corrected report reaching some markets only), the most common value
    wins, the first seen among equals, and ``conflict`` lists them all.
    """
    winners: list[str] = []
    values: Counter[Decimal] = Counter()
    for market in markets:
        resolved = resolution(market.result)
        if resolved is Resolution.YES:
            winners.append(market.ticker)
        if resolved is not Resolution.UNDETERMINED and (number := settled_number(market.expiration_value)) is not None:
            values[number] += 1
    settled_high = values.most_common(1)[0][0] if values else None
    conflict = tuple(sorted(values)) if len(values) > 1 else ()
    return EventOutcome(winners[0] if len(winners) == 1 else None, settled_high, conflict)
