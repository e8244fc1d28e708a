"""A position in one market as Kalshi keeps it: YES netted against NO, cost at entry, P&L when realised.

Kalshi nets a market's YES and NO contracts: buying YES while holding NO
closes pairs, and each pair is worth $1 at once. So a fill either opens
contracts (their price joins the cost) or closes pairs (realising $1 less what
both halves cost), and settlement pays $1 per winning contract. Fees are
realised as they are charged.

Every method returns the change in cash, so a broker's balance is the sum of
what its positions returned.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from markets.schemas.enums import BookSide, Side

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass
class Position:
    yes: Decimal = ZERO
    no: Decimal = ZERO
    cost: Decimal = ZERO  # what the open contracts cost, before fees
    realized: Decimal = ZERO  # P&L realised so far, after fees
    fees: Decimal = ZERO

    @property
    def is_open(self) -> bool:
        return self.yes > 0 or self.no > 0

    def fill(self, side: BookSide, count: Decimal, yes_price: Decimal, fee: Decimal) -> Decimal:
        """Apply a fill of ``count`` at ``yes_price`` on the YES book; the cash it moves (negative: paid)."""
        if count <= 0:
            raise ValueError(f"a fill needs a positive count, got {count}")
        bought = Side.YES if side is BookSide.BID else Side.NO
        price = yes_price if bought is Side.YES else ONE - yes_price
        held_against = self.no if bought is Side.YES else self.yes
        pairs = min(count, held_against)
        released = self.cost * pairs / held_against if pairs else ZERO  # cost of the contracts the pairs close
        self.cost -= released
        opened = count - pairs
        if bought is Side.YES:
            self.no -= pairs
            self.yes += opened
        else:
            self.yes -= pairs
            self.no += opened
        self.cost += opened * price
        self.realized += pairs * (ONE - price) - released - fee
        self.fees += fee
        return pairs - count * price - fee

    def settle(self, payout: Decimal) -> Decimal:
        """Settle at ``payout`` dollars per YES contract (1: YES won, 0: NO won); the cash it pays."""
        if not ZERO <= payout <= ONE:
            raise ValueError(f"a settlement pays between $0 and $1 a YES contract, got {payout}")
        cash = self.yes * payout + self.no * (ONE - payout)
        self.realized += cash - self.cost
        self.yes = self.no = self.cost = ZERO
        return cash
