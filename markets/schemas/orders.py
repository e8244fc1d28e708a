"""What we send: order requests, validated before they can reach the exchange.

Kalshi accepts a price as integer cents *or* fixed-point dollars and a count
as an integer *or* fixed point, and rejects a body carrying more than one
price field. We always send exactly one of ``yes_price_dollars`` /
``no_price_dollars`` and ``count_fp``, as strings, so sub-penny ticks and
fractional contracts need no second code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from markets.schemas.enums import Action, Side, TimeInForce

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
DECI_CENT = Decimal("0.001")
_PRICE_TEXT = Decimal("0.0001")  # the 4 decimals Kalshi itself prints ("0.4200")
_TAPER_LOW, _TAPER_HIGH = Decimal("0.10"), Decimal("0.90")


def price_on_tick(price: Decimal, price_level_structure: str = "") -> bool:
    """Whether ``price`` is a valid quote under a market's ``price_level_structure``.

    ``linear_cent``: $0.01 steps; ``tapered_deci_cent``: $0.001 below $0.10 and
    above $0.90, $0.01 between; ``deci_cent``: $0.001 everywhere. Markets that
    do not say (older payloads) trade in cents.
    """
    if not ZERO < price < ONE:
        return False
    if price_level_structure == "deci_cent":
        step = DECI_CENT
    elif price_level_structure == "tapered_deci_cent":
        step = DECI_CENT if price < _TAPER_LOW or price > _TAPER_HIGH else CENT
    else:
        step = CENT
    return price % step == 0


def _fixed(value: Decimal, places: Decimal) -> str:
    return str(value.quantize(places))


@dataclass(frozen=True, slots=True)
class CreateOrderRequest:
    """A limit order: ``count`` contracts of ``side`` at ``price`` dollars (the price of that side).

    ``client_order_id`` is required in this product: it is the idempotency key
    that lets a lost response be reconciled instead of re-sent. Validation
    here is what the exchange would reject anyway, caught before sending.
    Per-market tick rules need the market: see :meth:`Market.accepts_price`.
    """

    ticker: str
    side: Side
    action: Action
    count: Decimal
    price: Decimal
    client_order_id: str
    time_in_force: TimeInForce | None = None
    post_only: bool = False
    reduce_only: bool = False
    order_group_id: str | None = None
    cancel_order_on_pause: bool = False
    expiration: datetime | None = None
    buy_max_cost: Decimal | None = None

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValueError(f"invalid order for {self.ticker or '?'}: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        problems = []
        if not self.ticker:
            problems.append("ticker is required")
        if not self.client_order_id:
            problems.append("client_order_id is required")
        if not isinstance(self.side, Side) or not isinstance(self.action, Action):
            problems.append(f"side and action must be Side and Action, got {self.side!r} and {self.action!r}")
        if not isinstance(self.count, Decimal) or self.count <= 0 or self.count % CENT != 0:
            problems.append(f"count must be a positive Decimal in steps of 0.01, got {self.count!r}")
        if not isinstance(self.price, Decimal) or not ZERO < self.price < ONE:
            problems.append(f"price must be a Decimal strictly between 0 and 1 dollar, got {self.price!r}")
        elif self.price % DECI_CENT != 0:
            problems.append(f"price {self.price} is finer than Kalshi's smallest tick ($0.001)")
        if self.expiration is not None and self.expiration.tzinfo is None:
            problems.append("expiration must be an aware datetime")
        if self.buy_max_cost is not None and (self.buy_max_cost <= 0 or self.buy_max_cost % CENT != 0):
            problems.append(f"buy_max_cost must be a positive amount of whole cents, got {self.buy_max_cost!r}")
        if self.buy_max_cost is not None and self.action is not Action.BUY:
            problems.append("buy_max_cost only applies to buy orders")
        return problems

    def to_json(self) -> dict[str, object]:
        """The CreateOrderRequest body: one price field for our side, ``count_fp``, optional fields only when set."""
        body: dict[str, object] = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side.value,
            "action": self.action.value,
            "count_fp": _fixed(self.count, CENT),
            f"{self.side.value}_price_dollars": _fixed(self.price, _PRICE_TEXT),
        }
        if self.time_in_force is not None:
            body["time_in_force"] = self.time_in_force.value
        if self.post_only:
            body["post_only"] = True
        if self.reduce_only:
            body["reduce_only"] = True
        if self.order_group_id:
            body["order_group_id"] = self.order_group_id
        if self.cancel_order_on_pause:
            body["cancel_order_on_pause"] = True
        if self.expiration is not None:
            body["expiration_ts"] = int(self.expiration.timestamp())
        if self.buy_max_cost is not None:
            body["buy_max_cost"] = int(self.buy_max_cost / CENT)  # the API takes integer cents here
        return body
