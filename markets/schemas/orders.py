"""Orders in Kalshi's V2 form: what we send, and the short answers Kalshi gives.

V1 (``POST /portfolio/orders``) is retired and answers 410. V2 trades one YES
book: ``side`` is a :class:`BookSide` (``bid`` buys YES, ``ask`` sells YES,
so buying NO at q is an ask at 1 - q), ``price`` is the YES price as a
fixed-point dollar string ("0.4200") and ``count`` a fixed-point count
("10.00"); ``time_in_force`` and ``self_trade_prevention_type`` are required.

The answers are acknowledgements, not full orders (:class:`OrderAck`). A 2xx
answer means Kalshi accepted the mutation, so a body we cannot fully read is
never reported as a failure: :func:`accepted` turns it into
:class:`AcceptedDetailsUnknown`, carrying what could be read, for
reconciliation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from markets.errors import BadResponse, ErrorInfo
from markets.schemas.enums import BookSide, SelfTradePrevention, TimeInForce
from markets.schemas.reader import Reader

logger = logging.getLogger(__name__)

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


def fixed_price(price: Decimal) -> str:
    """A YES price as the FixedPointDollars text Kalshi takes ("0.4200")."""
    return str(price.quantize(_PRICE_TEXT))


def fixed_count(count: Decimal) -> str:
    """A contract count as the FixedPointCount text Kalshi takes ("10.00")."""
    return str(count.quantize(CENT))


def _price_problems(price: object) -> list[str]:
    if not isinstance(price, Decimal) or not ZERO < price < ONE:
        return [f"price must be a Decimal strictly between 0 and 1 dollar, got {price!r}"]
    if price % DECI_CENT != 0:
        return [f"price {price} is finer than Kalshi's smallest tick ($0.001)"]
    return []


def _count_problems(count: object, name: str = "count") -> list[str]:
    if not isinstance(count, Decimal) or count <= 0 or count % CENT != 0:
        return [f"{name} must be a positive Decimal in steps of 0.01, got {count!r}"]
    return []


def _expiration_problems(expiration: datetime | None) -> list[str]:
    if expiration is not None and expiration.tzinfo is None:
        return ["expiration must be an aware datetime"]
    return []


@dataclass(frozen=True, slots=True)
class CreateOrderRequest:
    """A V2 limit order: ``count`` contracts on ``side`` of the YES book at YES price ``price``.

    ``client_order_id`` is required in this product: it is the idempotency key
    that lets a lost response be reconciled instead of re-sent. Validation
    here is what the exchange would reject anyway, caught before sending.
    Per-market tick rules need the market: see :meth:`Market.accepts_price`.
    """

    ticker: str
    side: BookSide
    price: Decimal
    count: Decimal
    client_order_id: str
    time_in_force: TimeInForce
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    expiration: datetime | None = None

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
        if not isinstance(self.side, BookSide):
            problems.append(f"side must be a BookSide (bid or ask), got {self.side!r}")
        if not isinstance(self.time_in_force, TimeInForce):
            problems.append(f"time_in_force must be a TimeInForce, got {self.time_in_force!r}")
        if not isinstance(self.self_trade_prevention, SelfTradePrevention):
            problems.append(f"self_trade_prevention must be a SelfTradePrevention, got {self.self_trade_prevention!r}")
        problems += _count_problems(self.count) + _price_problems(self.price)
        problems += _expiration_problems(self.expiration)
        if self.reduce_only and self.time_in_force is not TimeInForce.IMMEDIATE_OR_CANCEL:
            problems.append("reduce_only is accepted only with immediate_or_cancel")
        if self.expiration is not None and self.time_in_force is not TimeInForce.GOOD_TILL_CANCELED:
            problems.append("an expiring order must be good_till_canceled")
        return problems

    def to_json(self) -> dict[str, object]:
        """The CreateOrderV2Request body: fixed-point strings, optional fields only when set."""
        body: dict[str, object] = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side.value,
            "count": fixed_count(self.count),
            "price": fixed_price(self.price),
            "time_in_force": self.time_in_force.value,
            "self_trade_prevention_type": self.self_trade_prevention.value,
        }
        if self.post_only:
            body["post_only"] = True
        if self.reduce_only:
            body["reduce_only"] = True
        if self.cancel_order_on_pause:
            body["cancel_order_on_pause"] = True
        if self.order_group_id:
            body["order_group_id"] = self.order_group_id
        if self.expiration is not None:
            body["expiration_time"] = int(self.expiration.timestamp())  # Unix seconds
        return body


@dataclass(frozen=True, slots=True)
class AmendOrderRequest:
    """A new price and/or size for a resting order; ``count`` is the new total (filled plus resting).

    Queue position survives only a size decrease or an expiry-only change.
    ``updated_client_order_id`` renames the order (the amended order's new idempotency key).
    """

    ticker: str
    side: BookSide
    price: Decimal
    count: Decimal
    client_order_id: str | None = None
    updated_client_order_id: str | None = None
    expiration: datetime | None = None

    def __post_init__(self) -> None:
        problems = [] if self.ticker else ["ticker is required"]
        if not isinstance(self.side, BookSide):
            problems.append(f"side must be a BookSide (bid or ask), got {self.side!r}")
        problems += _count_problems(self.count) + _price_problems(self.price)
        problems += _expiration_problems(self.expiration)
        if problems:
            raise ValueError(f"invalid amendment for {self.ticker or '?'}: " + "; ".join(problems))

    def to_json(self) -> dict[str, object]:
        """The AmendOrderV2Request body."""
        body: dict[str, object] = {
            "ticker": self.ticker,
            "side": self.side.value,
            "price": fixed_price(self.price),
            "count": fixed_count(self.count),
        }
        if self.client_order_id:
            body["client_order_id"] = self.client_order_id
        if self.updated_client_order_id:
            body["updated_client_order_id"] = self.updated_client_order_id
        if self.expiration is not None:
            body["expiration_time"] = int(self.expiration.timestamp())
        return body


def decrease_body(*, reduce_by: Decimal | None = None, reduce_to: Decimal | None = None) -> dict[str, object]:
    """The DecreaseOrderV2Request body: exactly one of ``reduce_by`` and ``reduce_to`` (which may be 0)."""
    if reduce_by is not None and reduce_to is None:
        problems = _count_problems(reduce_by, "reduce_by")
        if problems:
            raise ValueError(problems[0])
        return {"reduce_by": fixed_count(reduce_by)}
    if reduce_to is not None and reduce_by is None:
        if not isinstance(reduce_to, Decimal) or reduce_to < 0 or reduce_to % CENT != 0:
            raise ValueError(f"reduce_to must be a Decimal of at least 0 in steps of 0.01, got {reduce_to!r}")
        return {"reduce_to": fixed_count(reduce_to)}
    raise ValueError("a decrease takes exactly one of reduce_by and reduce_to")


# --- what Kalshi answers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderAck:
    """Kalshi's answer to one order mutation: what it did to the order.

    Create fills ``fill_count`` and ``remaining_count`` (plus the average fill
    price and fee when something filled); cancel fills ``reduced_by``;
    decrease fills ``remaining_count``; amend may fill any of them.
    """

    order_id: str
    client_order_id: str
    fill_count: Decimal | None = None
    remaining_count: Decimal | None = None
    reduced_by: Decimal | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None
    at: datetime | None = None
    accepted: Literal[True] = True
    details_known: Literal[True] = True


@dataclass(frozen=True, slots=True)
class AcceptedDetailsUnknown:
    """A 2xx answer to an order mutation whose body could not be fully read.

    Kalshi accepted the request, so this is never a failure: the caller
    records the order as accepted and reconciles its details from
    GET /portfolio/orders. ``raw`` is the body as received (decoded JSON, or
    text when it was not JSON); ``problem`` says what could not be read.
    """

    order_id: str | None
    client_order_id: str | None
    raw: object
    problem: str
    accepted: Literal[True] = True
    details_known: Literal[False] = False


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """One item of a batch that Kalshi refused, with its error."""

    order_id: str | None
    client_order_id: str | None
    error: ErrorInfo
    accepted: Literal[False] = False


OrderAnswer = OrderAck | AcceptedDetailsUnknown
BatchItem = OrderAck | AcceptedDetailsUnknown | OrderRejected


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_order_ack(data: object, *, kind: str = "OrderAck") -> OrderAck:
    """Any V2 order answer (create, cancel, amend, decrease, or a batch item)."""
    r = Reader(data, kind, "order_id")
    ts_ms = r.opt_integer("ts_ms")
    return OrderAck(
        order_id=r.text("order_id"),
        client_order_id=r.opt_text("client_order_id"),
        fill_count=r.opt_count("fill_count"),
        remaining_count=r.opt_count("remaining_count"),
        reduced_by=r.opt_count("reduced_by"),
        average_fill_price=r.opt_dollars("average_fill_price"),
        average_fee_paid=r.opt_dollars("average_fee_paid"),
        at=_ms(ts_ms) if ts_ms is not None else None,
    )


def accepted_unknown(data: object, *, client_order_id: str | None, problem: str) -> AcceptedDetailsUnknown:
    """What can be read of an answer that does not parse: at least the ids."""
    order_id: str | None = None
    sent_id = client_order_id
    if isinstance(data, Mapping):
        candidates = [data, data.get("order")]
        for candidate in candidates:
            if isinstance(candidate, Mapping) and isinstance(candidate.get("order_id"), str) and candidate["order_id"]:
                order_id = candidate["order_id"]
                break
        if sent_id is None and isinstance(data.get("client_order_id"), str):
            sent_id = data["client_order_id"] or None
    return AcceptedDetailsUnknown(order_id=order_id, client_order_id=sent_id, raw=data, problem=problem)


def accepted(
    parse: Callable[[Any], OrderAck], *, client_order_id: str | None
) -> Callable[[Any], OrderAck | AcceptedDetailsUnknown]:
    """``parse`` for the 2xx answer of an order mutation, degrading to :class:`AcceptedDetailsUnknown`."""

    def read(data: Any) -> OrderAck | AcceptedDetailsUnknown:
        try:
            return parse(data)
        except BadResponse as exc:
            logger.warning("order mutation accepted but its answer is unreadable (%s); reconcile it", exc.summary)
            return accepted_unknown(data, client_order_id=client_order_id, problem=exc.summary)

    return read


def batch_answer(
    *, kind: str, client_order_ids: Sequence[str | None], order_ids: Sequence[str | None] = ()
) -> Callable[[Any], tuple[BatchItem, ...]]:
    """The parser of a batched create or cancel: one item per order sent, in order.

    A rejected item carries Kalshi's error; an item (or a whole body) that
    cannot be read is :class:`AcceptedDetailsUnknown` for the order sent at
    that position, never a failure of the batch.
    """

    def sent(index: int) -> tuple[str | None, str | None]:
        cid = client_order_ids[index] if index < len(client_order_ids) else None
        oid = order_ids[index] if index < len(order_ids) else None
        return cid, oid

    def unknown(data: object, index: int, problem: str) -> AcceptedDetailsUnknown:
        cid, oid = sent(index)
        result = accepted_unknown(data, client_order_id=cid, problem=problem)
        return result if result.order_id or oid is None else _with_order_id(result, oid)

    def item(data: object, index: int) -> BatchItem:
        cid, oid = sent(index)
        try:
            r = Reader(data, f"{kind} item", "order_id")
            if r.has("error"):
                error = ErrorInfo.from_payload(r.mapping("error")) or ErrorInfo(message="unspecified error")
                own_cid = r.opt_text("client_order_id") or cid
                return OrderRejected(order_id=r.opt_text("order_id") or oid, client_order_id=own_cid, error=error)
            if not r.has("order_id"):  # older answers left it "" with the id inside "order"
                nested = r.raw.get("order")
                nested_id = nested.get("order_id") if isinstance(nested, Mapping) else None
                known_id = nested_id if isinstance(nested_id, str) and nested_id else oid
                if known_id is not None:
                    data = {**r.raw, "order_id": known_id}
            ack = parse_order_ack(data, kind=f"{kind} item")
            return replace(ack, client_order_id=cid) if cid and not ack.client_order_id else ack
        except BadResponse as exc:
            return unknown(data, index, exc.summary)

    def parse(data: Any) -> tuple[BatchItem, ...]:
        count = max(len(client_order_ids), len(order_ids))
        try:
            items = Reader(data, kind).array("orders")
        except BadResponse as exc:
            logger.warning("batch accepted but its answer is unreadable (%s); reconcile it", exc.summary)
            return tuple(unknown(data, index, exc.summary) for index in range(count))
        answered = tuple(item(entry, index) for index, entry in enumerate(items))
        # An order the answer says nothing about may still have been placed or cancelled: unknown, not failed.
        missing = tuple(unknown(None, index, "no item in the answer") for index in range(len(items), count))
        return answered + missing

    return parse


def _with_order_id(result: AcceptedDetailsUnknown, order_id: str) -> AcceptedDetailsUnknown:
    return AcceptedDetailsUnknown(
        order_id=order_id, client_order_id=result.client_order_id, raw=result.raw, problem=result.problem
    )
