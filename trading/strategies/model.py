"""The model's strategies: take where the model's edge clears fees, or rest quotes around fair value.

Both size on the model's probability shrunk toward the market's (the market
is a strong forecaster: see the README), with fractional Kelly over the
event's brackets as exclusive outcomes.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from markets.schemas.enums import Side
from trading.decisions import EventView, MarketView, Snapshot, WorkingOrder, book_side, side_name, yes_price
from trading.limits import Sizing
from trading.sizing import (
    Candidate,
    as_decimal,
    event_probabilities,
    expected_value,
    floor_to_tick,
    kelly_counts,
    win_probability,
)
from trading.strategies.base import EventByEvent, Proposal, cents, fees_known, intent, working_on

TICK = Decimal("0.01")  # weather markets trade in whole cents (price_level_structure linear_cent)


@dataclass(frozen=True)
class ModelTaker(EventByEvent):
    """Cross the spread where the model's expected value after the taker fee clears ``sizing.min_edge``."""

    name: ClassVar[str] = "model-taker"
    uses_model: ClassVar[bool] = True  # trades on the model's predictions: they must be fresh
    sizing: Sizing = field(default_factory=Sizing)

    def decide_event(self, snapshot: Snapshot, event: EventView, proposal: Proposal) -> None:
        at = snapshot.as_of
        problem = fees_known(event, at, taker=True)
        probabilities = event_probabilities(event, self.sizing.market_shrinkage)
        if problem or probabilities is None:
            proposal.skip_event(event, problem or "no model forecast for this event")
            return
        candidates = []
        for market, p in zip(event.markets, probabilities, strict=True):
            if working_on(snapshot, market.ticker, self.name):
                proposal.skip(market, "an earlier order is still working")
                continue
            candidate, reason = self._best_side(event, market, p, at)
            if candidate is None:
                proposal.skip(market, reason)
            else:
                candidates.append((candidate, p))
        self._size(snapshot, event, candidates, probabilities, proposal)

    def _best_side(self, event: EventView, market: MarketView, p: float, at: datetime) -> tuple[Candidate | None, str]:
        """The side with the larger expected value per contract, if it clears the edge; else why not."""
        values: list[tuple[Decimal, Side, Decimal]] = []
        for buy in (Side.YES, Side.NO):
            price = market.quote.cost(buy)
            if price is not None and 0 < price < 1:
                fee = event.fees.per_contract(price, taker=True, at=at)
                values.append((as_decimal(win_probability(p, buy)) - price - fee, buy, price))
        if not values:
            return None, "no price to take on either side"
        value, buy, price = max(values, key=lambda v: v[0])
        if value < self.sizing.min_edge:
            described = ", ".join(f"{side_name(b)} {cents(v)} at {cents(pr)}" for v, b, pr in values)
            return None, f"expected value after fees {described}: below the {cents(self.sizing.min_edge)} edge"
        reason = f"p {p:.3f} vs {side_name(buy)} at {cents(price)}: {cents(value)} a contract after fees"
        return Candidate(market, buy, price, taker=True, reason=reason), ""

    def _size(
        self,
        snapshot: Snapshot,
        event: EventView,
        candidates: list[tuple[Candidate, float]],
        probabilities: list[float],
        proposal: Proposal,
    ) -> None:
        at = snapshot.as_of
        for candidate, p, count in kelly_sized(snapshot, event, candidates, probabilities, self.sizing, proposal):
            value = expected_value(p, candidate.buy, candidate.price, count, event.fees, taker=True, at=at)
            if value < self.sizing.min_edge:
                proposal.skip(candidate.market, f"the fee on {count} contracts leaves {cents(value)} a contract")
                continue
            proposal.intents.append(
                intent(candidate, strategy=self.name, event=event, count=count, probability=p, expected_value=value)
            )


def kelly_sized(
    snapshot: Snapshot,
    event: EventView,
    candidates: list[tuple[Candidate, float]],
    probabilities: list[float],
    sizing: Sizing,
    proposal: Proposal,
) -> list[tuple[Candidate, float, Decimal]]:
    """The candidates with their whole-contract Kelly counts; those under one contract are passed, with why."""
    counts = kelly_counts(
        event,
        [c for c, _ in candidates],
        probabilities,
        portfolio=snapshot.portfolio,
        fraction=sizing.kelly_fraction,
        at=snapshot.as_of,
    )
    sized = []
    for (candidate, p), count in zip(candidates, counts, strict=True):
        if count <= 0:
            proposal.skip(candidate.market, f"{candidate.reason}; Kelly stake is under one contract")
        else:
            sized.append((candidate, p, count))
    return sized


@dataclass(frozen=True)
class ModelMaker(EventByEvent):
    """Rest post-only bids at fair value minus ``margin`` on both sides, re-priced at every decision.

    A quote that would cross the book is lowered to a tick below it. Each
    side's quotes are sized by Kelly as if the other side's did not fill (a fill
    on both sides of a market locks in the spread). A working quote that is
    still right keeps its place in the queue; every other one is cancelled.
    """

    name: ClassVar[str] = "model-maker"
    uses_model: ClassVar[bool] = True
    sizing: Sizing = field(default_factory=Sizing)
    margin: Decimal = Decimal("0.02")

    def decide_event(self, snapshot: Snapshot, event: EventView, proposal: Proposal) -> None:
        at = snapshot.as_of
        mine = [
            o for o in snapshot.portfolio.working if o.event_ticker == event.event_ticker and o.strategy == self.name
        ]
        problem = fees_known(event, at, taker=False)
        probabilities = event_probabilities(event, self.sizing.market_shrinkage)
        if problem or probabilities is None:
            proposal.skip_event(event, problem or "no model forecast for this event")
            proposal.cancels.extend(o.client_order_id for o in mine)
            return
        wanted = []
        for buy in (Side.YES, Side.NO):
            quotes = []
            for market, p in zip(event.markets, probabilities, strict=True):
                candidate, reason = self._quote(event, market, p, buy, at)
                if candidate is None:
                    proposal.skip(market, reason)
                else:
                    quotes.append((candidate, p))
            wanted.extend(kelly_sized(snapshot, event, quotes, probabilities, self.sizing, proposal))
        self._replace_working(event, mine, wanted, proposal)

    def _quote(
        self, event: EventView, market: MarketView, p: float, buy: Side, at: datetime
    ) -> tuple[Candidate | None, str]:
        fair = as_decimal(win_probability(p, buy))
        price = floor_to_tick(fair - self.margin, TICK)
        ask = market.quote.cost(buy)
        if ask is not None and price >= ask:
            price = ask - TICK  # post-only: never cross the book
        label = side_name(buy)
        if price < TICK:
            return None, f"{label}: fair value {cents(fair)} leaves no bid after the {cents(self.margin)} margin"
        if fair - price - event.fees.per_contract(price, taker=False, at=at) < self.margin:
            return None, f"{label}: a bid below the ask at {cents(ask or price)} earns less than the margin"
        reason = f"p {p:.3f}: bid {label} at {cents(price)}, fair {cents(fair)}"
        return Candidate(market, buy, price, taker=False, reason=reason), ""

    def _replace_working(
        self,
        event: EventView,
        mine: list[WorkingOrder],
        wanted: list[tuple[Candidate, float, Decimal]],
        proposal: Proposal,
    ) -> None:
        """Keep working quotes that match what is wanted (their queue place is worth keeping); replace the rest."""
        kept: set[str] = set()
        for candidate, p, count in wanted:
            side, price = book_side(candidate.buy), yes_price(candidate.buy, candidate.price)
            # The same price, for no more than is wanted now (risk may have cut it down when it was placed).
            same = (candidate.market.ticker, side, price)
            match = next((o for o in mine if (o.ticker, o.side, o.price) == same and o.remaining <= count), None)
            if match is not None:
                kept.add(match.client_order_id)
                proposal.skip(candidate.market, f"{candidate.reason}: the working quote stands")
                continue
            value = as_decimal(win_probability(p, candidate.buy)) - candidate.price
            proposal.intents.append(
                intent(candidate, strategy=self.name, event=event, count=count, probability=p, expected_value=value)
            )
        proposal.cancels.extend(o.client_order_id for o in mine if o.client_order_id not in kept)
