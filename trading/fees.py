"""Kalshi's trading fees, from the series' fee schedule with the event's override and the market's waiver.

Fees are quadratic in the price: ``rate·multiplier·C·P·(1 - P)`` for C
contracts at P dollars, rounded up to the cent per order (golden values: 1 @
$0.50 → $0.02; 100 @ $0.50 → $1.75; 20 @ $0.60 → $0.34). Takers pay the 0.07
rate on every quadratic schedule; makers pay 0.0175 only on
``quadratic_with_maker_fees`` series (weather series are plain ``quadratic``:
resting orders are free).

Kalshi now rounds each fill's fee to $0.0001 and rebates whole cents through a
per-order accumulator, so that "the total fee across many small fills
converges to what a single equivalent fill would cost". :class:`OrderFees`
charges each fill the increase of the order's rounded total, which is exactly
that: the fills of one order together pay the fee of one order.

A schedule we do not know the formula of (``flat``, priced by a table we do
not have, or a type newer than this code) raises :class:`FeeError`: a strategy
refuses to trade rather than guess what it would pay.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from markets.schemas.enums import FeeType

CENT = Decimal("0.01")
TAKER_RATE = Decimal("0.07")
MAKER_RATE = Decimal("0.0175")
ZERO = Decimal(0)

# fee type → (taker rate, maker rate). Types absent here have no formula we trust.
_RATES: dict[str, tuple[Decimal, Decimal]] = {
    FeeType.QUADRATIC: (TAKER_RATE, ZERO),
    FeeType.QUADRATIC_WITH_MAKER_FEES: (TAKER_RATE, MAKER_RATE),
}


class FeeError(ValueError):
    """A fee schedule whose cost cannot be computed: trading on it would be a guess."""


@dataclass(frozen=True)
class FeeSchedule:
    """What one market's trades cost: the effective fee type and multiplier, and any waiver."""

    fee_type: str
    multiplier: Decimal
    waived_until: datetime | None = None  # the market's fee_waiver_expiration_time

    @classmethod
    def effective(
        cls,
        *,
        series_type: str,
        series_multiplier: Decimal,
        event_type: str | None = None,
        event_multiplier: Decimal | None = None,
        waived_until: datetime | None = None,
    ) -> FeeSchedule:
        """The series' schedule, unless the event overrides it (Kalshi sends type and multiplier as a pair)."""
        if event_type:
            multiplier = event_multiplier if event_multiplier is not None else series_multiplier
            return cls(event_type, multiplier, waived_until)
        return cls(series_type, series_multiplier, waived_until)

    def rate(self, *, taker: bool, at: datetime) -> Decimal:
        """The coefficient of C·P·(1-P) for a taker or maker fill at ``at``; FeeError if unknown."""
        rates = _RATES.get(self.fee_type)
        if rates is None:
            raise FeeError(
                f"fee type {self.fee_type!r} has no formula here (known: {', '.join(sorted(_RATES))}); "
                "refusing to trade rather than guess its cost"
            )
        if self.multiplier < 0:
            raise FeeError(f"fee multiplier {self.multiplier} is negative")
        if self.waived_until is not None and at < self.waived_until:
            return ZERO
        return (rates[0] if taker else rates[1]) * self.multiplier

    def raw(self, count: Decimal, price: Decimal, *, taker: bool, at: datetime) -> Decimal:
        """The unrounded fee of ``count`` contracts at ``price`` dollars."""
        _check(count, price)
        return self.rate(taker=taker, at=at) * count * price * (1 - price)

    def fee(self, count: Decimal, price: Decimal, *, taker: bool, at: datetime) -> Decimal:
        """The fee of one order of ``count`` contracts at ``price``, rounded up to the cent."""
        return round_up_to_cent(self.raw(count, price, taker=taker, at=at))

    def per_contract(self, price: Decimal, *, taker: bool, at: datetime) -> Decimal:
        """The fee per contract of a large order (the rate before the order's rounding)."""
        return self.raw(Decimal(1), price, taker=taker, at=at)


def round_up_to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_CEILING) if amount > 0 else ZERO


def _check(count: Decimal, price: Decimal) -> None:
    if count < 0:
        raise FeeError(f"a fee needs a non-negative count, got {count}")
    if not ZERO <= price <= 1:
        raise FeeError(f"a fee needs a price between $0 and $1, got {price}")


@dataclass
class OrderFees:
    """The fees of one order's fills: each fill pays what it adds to the order's rounded total."""

    schedule: FeeSchedule
    raw_total: Decimal = ZERO
    charged: Decimal = field(default=ZERO)

    def charge(self, count: Decimal, price: Decimal, *, taker: bool, at: datetime) -> Decimal:
        self.raw_total += self.schedule.raw(count, price, taker=taker, at=at)
        total = round_up_to_cent(self.raw_total)
        fee, self.charged = total - self.charged, total
        return fee
