"""What every broker does and answers: place, cancel, and catch up. The mode is the broker plugged in.

A broker never decides: it sends what execution hands it and says what
happened, as a :class:`Placement` execution applies to the ledger. An answer
that does not say for sure whether an order exists is UNKNOWN, never
rejected: the order then blocks its market until reconciliation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from kalshiweb.modes import TradingMode
from trading.accounting import FillReport
from trading.models import Order

ZERO = Decimal(0)


@dataclass(frozen=True)
class Placement:
    """What became of an order sent (or a cancel): its status at the exchange and any fills it got at once."""

    status: Order.Status
    exchange_order_id: str = ""
    filled: Decimal | None = None  # the order's filled count, when the answer said
    remaining: Decimal | None = None  # its resting count, when the answer said
    fills: tuple[FillReport, ...] = ()
    reason: str = ""
    # The kill switch's repeated-errors trigger: True an exchange error, False an answer from the
    # exchange (which ends a run of errors), None no exchange involved (paper fills, local decisions).
    exchange_error: bool | None = None
    order_group_id: str = ""
    # The paper broker's queue: contracts ahead of a resting order, and the trades it has read up to.
    queue_ahead: Decimal | None = None
    trades_read_until: datetime | None = None


class Broker(Protocol):
    """The seam between deciding and the exchange: a paper book for DRY, Kalshi for DEMO and LIVE."""

    mode: TradingMode

    def trading_active(self) -> bool | None:
        """Whether the exchange says trading is on (None: it cannot say); False trips the kill switch."""

    def prepare(self, orders: Sequence[Order], *, now: datetime) -> None:
        """About to place these: read at once what placing them needs (the paper book's books)."""

    def place(self, order: Order, *, now: datetime) -> Placement:
        """Send the order; safe to call again for the same order (its client order id makes it one order)."""

    def cancel(self, order: Order, *, now: datetime) -> Placement:
        """Cancel what rests of the order."""

    def catch_up(self, *, now: datetime) -> list[tuple[Order, Placement]]:
        """Whatever happened to working orders since last asked (paper fills; nothing for a live exchange,
        whose fills arrive through the feed and reconciliation)."""


class BrokerUnavailable(RuntimeError):
    """The mode's broker cannot trade (LIVE not armed, no key): a message for the operator."""
