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

:class:`Quote` (with the weighted mid and imbalance) and :func:`best_quote`
live in ``markets.livebook``, beside the live book that produces them; they
are re-exported here so features and the live feed share one definition.

Pure: no Django. Histories without books give None, which the XGBoost
correction reads as missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markets.brackets import Bracket
from markets.livebook import Quote as Quote
from markets.livebook import best_quote as best_quote

TAIL_OFFSET_F = 1.0  # a tail stands for the values just beyond its edge


@dataclass(frozen=True)
class BookFeatures:
    implied_high_f: float
    imbalance: float
    spread: float

    def as_dict(self) -> dict[str, float]:
        return {"book_implied_high": self.implied_high_f, "book_imbalance": self.imbalance, "book_spread": self.spread}


BOOK_FEATURE_NAMES = ("book_implied_high", "book_imbalance", "book_spread")


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
    spread = sum(float(quote.spread) for _, quote in pairs) / len(pairs)
    return BookFeatures(implied, imbalance, spread)
