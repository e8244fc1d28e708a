"""Strategies that ignore the model: a bracket-set arbitrage, the longshot fade, and its control.

``longshot-no`` sells the favourite-longshot bias the literature documents
(cheap YES contracts win less often than their price says); ``longshot-yes``
buys those same contracts blindly and must lose after fees under any honest
fill model: it is the control that tells whether a backtest flatters.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from markets.schemas.enums import Side
from trading.decisions import EventView, MarketView, Snapshot, side_name
from trading.sizing import Candidate
from trading.strategies.base import EventByEvent, Proposal, cents, fees_known, intent, working_on

ONE = Decimal(1)


@dataclass(frozen=True)
class BracketArb(EventByEvent):
    """Buy one of every YES (pays $1) or every NO (pays N - 1) of an event when the set costs less after fees.

    Sized by the thinnest leg's displayed size, at most ``contracts`` sets
    (all of them when sizes are unknown, as in a backtest).
    """

    name: ClassVar[str] = "bracket-arb"
    min_edge: Decimal = Decimal("0.02")  # dollars per set after fees
    contracts: Decimal = Decimal(10)

    def decide_event(self, snapshot: Snapshot, event: EventView, proposal: Proposal) -> None:
        at = snapshot.as_of
        problem = fees_known(event, at, taker=True)
        if problem:
            proposal.skip_event(event, problem)
            return
        busy = (
            snapshot.portfolio.holding(m.ticker) or working_on(snapshot, m.ticker, self.name) for m in event.markets
        )
        if any(busy):
            proposal.skip_event(event, "this event's set is already held or being bought")
            return
        offers = [self._set(event, buy, at) for buy in (Side.YES, Side.NO)]
        priced = [offer for offer in offers if offer is not None]
        if not priced:
            proposal.skip_event(event, "no complete set of prices on either side")
            return
        edge, buy, count, prices = max(priced, key=lambda offer: offer[0])
        described = "; ".join(f"{side_name(offer[1])} set {cents(offer[0])} a set" for offer in priced)
        if edge < self.min_edge:
            proposal.skip_event(event, f"after fees: {described}: below the {cents(self.min_edge)} edge")
            return
        for market, price in zip(event.markets, prices, strict=True):
            leg = Candidate(market, buy, price, taker=True, reason=f"the {side_name(buy)} set pays {cents(edge)} a set")
            proposal.intents.append(
                intent(leg, strategy=self.name, event=event, count=count, expected_value=edge / len(event.markets))
            )

    def _set(self, event: EventView, buy: Side, at: datetime) -> tuple[Decimal, Side, Decimal, list[Decimal]] | None:
        """(profit per set after fees, side, sets, prices) of every bracket's ``buy``; None if one is unpriced."""
        prices = []
        for market in event.markets:
            price = market.quote.cost(buy)
            if price is None or not 0 < price < 1:
                return None
            prices.append(price)
        sizes = [m.quote.size(buy) for m in event.markets]
        known = [s for s in sizes if s is not None]
        count = min([self.contracts, *known]).to_integral_value()
        if count <= 0:
            return None
        payout = ONE if buy is Side.YES else Decimal(len(event.markets) - 1)
        cost = sum((p + event.fees.fee(count, p, taker=True, at=at) / count for p in prices), Decimal(0))
        return payout - cost, buy, count, prices


@dataclass(frozen=True)
class _Longshot(EventByEvent):
    """Buy ``buy`` with a fixed size wherever the YES price passes the strategy's test."""

    contracts: Decimal = Decimal(10)

    buy: ClassVar[Side]
    name: ClassVar[str]

    def decide_event(self, snapshot: Snapshot, event: EventView, proposal: Proposal) -> None:
        problem = fees_known(event, snapshot.as_of, taker=True)
        for market in event.markets:
            price = market.quote.cost(self.buy)
            reason = problem or self._refusal(snapshot, market)
            if reason or price is None:
                proposal.skip(market, reason)
                continue
            candidate = Candidate(market, self.buy, price, taker=True, reason=self._why(market))
            proposal.intents.append(intent(candidate, strategy=self.name, event=event, count=self.contracts))

    def _refusal(self, snapshot: Snapshot, market: MarketView) -> str:
        holding = snapshot.portfolio.holding(market.ticker)
        if holding is not None and holding.contracts(self.buy) > 0:
            return f"already holding {side_name(self.buy)}"
        if working_on(snapshot, market.ticker, self.name):
            return "an earlier order is still working"
        price = market.quote.cost(self.buy)
        if price is None or not 0 < price < 1:
            return f"no {side_name(self.buy)} price to take"
        return self._price_refusal(market)

    def _price_refusal(self, market: MarketView) -> str:
        raise NotImplementedError

    def _why(self, market: MarketView) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class LongshotNo(_Longshot):
    """Buy NO wherever YES can be sold at ``threshold`` or less: fade the overpriced longshot."""

    name: ClassVar[str] = "longshot-no"
    buy: ClassVar[Side] = Side.NO
    threshold: Decimal = Decimal("0.10")

    def _price_refusal(self, market: MarketView) -> str:
        bid = market.quote.yes_bid
        if bid is not None and bid > self.threshold:
            return f"YES bid {cents(bid)} is above the {cents(self.threshold)} longshot line"
        return ""

    def _why(self, market: MarketView) -> str:
        return f"YES bid {cents(market.quote.yes_bid or Decimal(0))}: longshots win less often than their price says"


@dataclass(frozen=True)
class LongshotYes(_Longshot):
    """The control: buy YES blindly wherever it costs under ``threshold``. It must lose after fees."""

    name: ClassVar[str] = "longshot-yes"
    buy: ClassVar[Side] = Side.YES
    threshold: Decimal = Decimal("0.20")

    def _price_refusal(self, market: MarketView) -> str:
        ask = market.quote.yes_ask
        if ask is not None and ask >= self.threshold:
            return f"YES ask {cents(ask)} is not under {cents(self.threshold)}"
        return ""

    def _why(self, market: MarketView) -> str:
        return f"control: YES at {cents(market.quote.yes_ask or Decimal(0))}, bought blindly"
