"""What every strategy shares: its proposal, the lookup of what is held or working, fixed-size buying.

A strategy is a small pure policy: given a snapshot it proposes intents
(sized, not yet risk-checked), cancels of its working orders, and the reason
for every market it passes over. ``trading.decide`` runs the risk checks.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Protocol

from markets.schemas.enums import TimeInForce
from trading.decisions import EventView, MarketView, OrderIntent, Pass, Snapshot, book_side, yes_price
from trading.fees import FeeError
from trading.sizing import Candidate

ZERO = Decimal(0)


@dataclass
class Proposal:
    intents: list[OrderIntent] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    passes: list[Pass] = field(default_factory=list)

    def skip(self, market: MarketView | str, reason: str) -> None:
        self.passes.append(Pass(market if isinstance(market, str) else market.ticker, reason))

    def skip_event(self, event: EventView, reason: str) -> None:
        for market in event.markets:
            self.skip(market, reason)


class Strategy(Protocol):
    name: ClassVar[str]

    def propose(self, snapshot: Snapshot) -> Proposal: ...


class EventByEvent:
    """A strategy that decides each event on its own (all of them, so far)."""

    def propose(self, snapshot: Snapshot) -> Proposal:
        proposal = Proposal()
        for event in snapshot.events:
            self.decide_event(snapshot, event, proposal)
        return proposal

    def decide_event(self, snapshot: Snapshot, event: EventView, proposal: Proposal) -> None:
        raise NotImplementedError


def intent(
    candidate: Candidate,
    *,
    strategy: str,
    event: EventView,
    count: Decimal,
    probability: float | None = None,
    expected_value: Decimal | None = None,
) -> OrderIntent:
    """An order buying ``count`` of the candidate's side at its price, in V2 form.

    Takers are immediate-or-cancel; makers rest post-only until cancelled. The
    client order id is set by ``trading.decide`` once the count is final.
    """
    return OrderIntent(
        ticker=candidate.market.ticker,
        event_ticker=event.event_ticker,
        side=book_side(candidate.buy),
        price=yes_price(candidate.buy, candidate.price),
        count=count,
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if candidate.taker else TimeInForce.GOOD_TILL_CANCELED,
        post_only=not candidate.taker,
        client_order_id="",
        strategy=strategy,
        reason=candidate.reason,
        probability=probability,
        expected_value=expected_value,
    )


def working_on(snapshot: Snapshot, ticker: str, strategy: str) -> list[str]:
    """Client order ids of this strategy's orders still working on ``ticker``."""
    return [o.client_order_id for o in snapshot.portfolio.working if o.ticker == ticker and o.strategy == strategy]


def fees_known(event: EventView, at: datetime, *, taker: bool) -> str:
    """ "" when the event's fees can be computed, else why not (the strategy then passes it)."""
    try:
        event.fees.rate(taker=taker, at=at)
    except FeeError as exc:
        return str(exc)
    return ""


def cents(value: Decimal) -> str:
    """A price or an amount per contract for a person: 4.5¢, -1.2¢, $1.04."""
    return f"${value:.2f}" if abs(value) >= 1 else f"{value * 100:.1f}¢"
