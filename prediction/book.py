"""Order-book features of one event at a decision time (used when ENABLE_MICRO_FEATS=1).

Kalshi books hold bids only: a YES bid at p is a NO ask at 1 - p, so a
market's best YES ask is 1 - its best NO bid. Per event, three numbers sum up
the books of its brackets:

- ``implied_high_f``: the high the books imply, Σ weighted-mid · bracket centre
  over Σ weighted-mid (tails count at one degree beyond their edge);
- ``imbalance``: size on the YES side minus the NO side over both, at the best
  levels, averaged over brackets weighted by their mid: buying pressure;
- ``spread``: the mean best ask minus best bid, in dollars: how sure the
  makers are.

The weighted mid leans toward the thinner side (microprice): with bid size b
and ask size a at prices B and A, (B·a + A·b) / (a + b).

Pure: no Django. Histories without books give None, which the XGBoost
correction reads as missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markets.brackets import Bracket

Level = tuple[Decimal, Decimal]  # (price in dollars, size in contracts)
TAIL_OFFSET_F = 1.0  # a tail stands for the values just beyond its edge


@dataclass(frozen=True)
class Quote:
    """The best YES bid and ask of one market, with their sizes."""

    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal

    @property
    def weighted_mid(self) -> float:
        total = self.bid_size + self.ask_size
        if total <= 0:
            return float((self.bid + self.ask) / 2)
        return float((self.bid * self.ask_size + self.ask * self.bid_size) / total)

    @property
    def imbalance(self) -> float:
        total = self.bid_size + self.ask_size
        return 0.0 if total <= 0 else float((self.bid_size - self.ask_size) / total)


@dataclass(frozen=True)
class BookFeatures:
    implied_high_f: float
    imbalance: float
    spread: float

    def as_dict(self) -> dict[str, float]:
        return {"book_implied_high": self.implied_high_f, "book_imbalance": self.imbalance, "book_spread": self.spread}


BOOK_FEATURE_NAMES = ("book_implied_high", "book_imbalance", "book_spread")


def best_quote(yes_bids: Sequence[Level], no_bids: Sequence[Level]) -> Quote | None:
    """The best YES bid and the YES ask implied by the best NO bid; None unless both sides quote."""
    if not yes_bids or not no_bids:
        return None
    bid, bid_size = max(yes_bids, key=lambda level: level[0])
    no_bid, ask_size = max(no_bids, key=lambda level: level[0])
    return Quote(bid, bid_size, Decimal(1) - no_bid, ask_size)


def bracket_centre(bracket: Bracket) -> float:
    lower, upper = bracket.continuous_edges()
    if math.isinf(lower):
        return upper - TAIL_OFFSET_F
    if math.isinf(upper):
        return lower + TAIL_OFFSET_F
    return (lower + upper) / 2


def book_features(quotes: Sequence[tuple[Bracket, Quote | None]]) -> BookFeatures | None:
    """The event's book features, or None unless every bracket has a two-sided quote."""
    if not quotes or any(quote is None for _, quote in quotes):
        return None
    pairs = [(bracket, quote) for bracket, quote in quotes if quote is not None]
    mids = [max(quote.weighted_mid, 0.0) for _, quote in pairs]
    total = sum(mids)
    if total <= 0:
        return None
    implied = sum(mid * bracket_centre(bracket) for (bracket, _), mid in zip(pairs, mids, strict=True)) / total
    imbalance = sum(mid * quote.imbalance for (_, quote), mid in zip(pairs, mids, strict=True)) / total
    spread = sum(float(quote.ask - quote.bid) for _, quote in pairs) / len(pairs)
    return BookFeatures(implied, imbalance, spread)
