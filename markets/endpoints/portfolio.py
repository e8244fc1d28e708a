"""Authenticated endpoints: account limits, balance, positions, orders, fills, settlements, order groups.

Orders are read from ``/portfolio/orders`` and changed through Kalshi's V2
family under ``/portfolio/events/orders``.

Every :class:`~markets.calls.Command` here changes state on the exchange:
clients never retry them and never send them in DRY mode. Only order
mutations count against the write rate limit; order-group changes are
counted as writes too, erring on the side of sending less.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from markets.calls import Command, Page, Paged, Query, compact
from markets.endpoints.pages import joined, page_of
from markets.ratelimit import BATCH_CANCEL_COST
from markets.schemas import (
    AccountLimits,
    AmendOrderRequest,
    Balance,
    BatchItem,
    CreateOrderRequest,
    Fill,
    Order,
    OrderAnswer,
    OrderGroup,
    OrderStatus,
    Positions,
    QueuePosition,
    Settlement,
    accepted,
    batch_answer,
    decrease_body,
    parse_account_limits,
    parse_balance,
    parse_fill,
    parse_order,
    parse_order_ack,
    parse_order_group,
    parse_order_groups,
    parse_positions,
    parse_queue_positions,
    parse_settlement,
)
from markets.schemas.reader import Reader, unwrap

MAX_PORTFOLIO_PAGE = 1000
MAX_BATCH = 20  # the batch size of the smallest tier (it grows with the write budget)
_CENT = Decimal("0.01")


def account_limits() -> Query[AccountLimits]:
    return Query("/account/limits", parse_account_limits, auth=True)


def balance() -> Query[Balance]:
    return Query("/portfolio/balance", parse_balance, auth=True)


def positions(
    *, ticker: str | None = None, event_ticker: str | None = None, count_filter: Sequence[str] | None = None
) -> Paged[Positions]:
    """Positions, one :class:`Positions` per page (combine them with ``Positions.combine``)."""
    params = compact({"ticker": ticker, "event_ticker": event_ticker, "count_filter": joined(count_filter)})

    return Paged(Query("/portfolio/positions", _positions_page, params=params, auth=True), MAX_PORTFOLIO_PAGE)


def _positions_page(data: Any) -> Page[Positions]:
    cursor = Reader(data, "GetPositions response").opt_text("cursor")
    return Page(items=(parse_positions(data),), cursor=cursor)


def order(order_id: str) -> Query[Order]:
    return Query(
        "/portfolio/orders/{order_id}",
        lambda data: parse_order(unwrap(data, "GetOrder response", "order")),
        path_params={"order_id": order_id},
        auth=True,
    )


def orders(
    *,
    ticker: str | None = None,
    event_ticker: str | None = None,
    status: OrderStatus | None = None,
    min_ts: datetime | None = None,
    max_ts: datetime | None = None,
) -> Paged[Order]:
    params = compact(
        {
            "ticker": ticker,
            "event_ticker": event_ticker,
            "status": status.value if status else None,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
    )
    parse = page_of("orders", parse_order, kind="GetOrders response")
    return Paged(Query("/portfolio/orders", parse, params=params, auth=True), MAX_PORTFOLIO_PAGE)


# --- order mutations: Kalshi's V2 family under /portfolio/events/orders -------------------------
# (V1, POST /portfolio/orders and DELETE /portfolio/orders/{id}, is retired: it answers 410.)
# A 2xx answer is parsed with ``accepted``/``batch_answer``: never a failure, at worst details unknown.


def create_order(request: CreateOrderRequest) -> Command[OrderAnswer]:
    """Place a V2 limit order; a 409 means this client_order_id exists already (reconcile, don't resend)."""
    return Command(
        "POST",
        "/portfolio/events/orders",
        accepted(partial(parse_order_ack, kind="CreateOrderV2 response"), client_order_id=request.client_order_id),
        body=request.to_json(),
        client_order_id=request.client_order_id,
    )


def cancel_order(order_id: str) -> Command[OrderAnswer]:
    """Cancel one order; the answer says by how much it shrank (``reduced_by``)."""
    return Command(
        "DELETE",
        "/portfolio/events/orders/{order_id}",
        accepted(partial(parse_order_ack, kind="CancelOrderV2 response"), client_order_id=None),
        path_params={"order_id": order_id},
    )


def amend_order(order_id: str, request: AmendOrderRequest) -> Command[OrderAnswer]:
    """Change a resting order's price and/or total size (``count`` is filled plus resting)."""
    return Command(
        "POST",
        "/portfolio/events/orders/{order_id}/amend",
        accepted(
            partial(parse_order_ack, kind="AmendOrderV2 response"),
            client_order_id=request.updated_client_order_id or request.client_order_id,
        ),
        path_params={"order_id": order_id},
        body=request.to_json(),
        client_order_id=request.updated_client_order_id or request.client_order_id,
    )


def decrease_order(order_id: str, reduce_by: Decimal) -> Command[OrderAnswer]:
    """Shrink a resting order by ``reduce_by`` contracts, keeping its place in the queue."""
    return _decrease(order_id, decrease_body(reduce_by=reduce_by))


def decrease_order_to(order_id: str, remaining: Decimal) -> Command[OrderAnswer]:
    """Shrink a resting order to ``remaining`` contracts (0 cancels it), keeping its place in the queue."""
    return _decrease(order_id, decrease_body(reduce_to=remaining))


def _decrease(order_id: str, body: dict[str, object]) -> Command[OrderAnswer]:
    return Command(
        "POST",
        "/portfolio/events/orders/{order_id}/decrease",
        accepted(partial(parse_order_ack, kind="DecreaseOrderV2 response"), client_order_id=None),
        path_params={"order_id": order_id},
        body=body,
    )


def batch_create_orders(requests: Sequence[CreateOrderRequest]) -> Command[tuple[BatchItem, ...]]:
    """Place up to 20 orders at once (each a write); each item reports its own ack or error."""
    if not 1 <= len(requests) <= MAX_BATCH:
        raise ValueError(f"a batch create takes 1 to {MAX_BATCH} orders, got {len(requests)}")
    ids = [request.client_order_id for request in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("each order of a batch needs its own client_order_id")
    return Command(
        "POST",
        "/portfolio/events/orders/batched",
        batch_answer(kind="BatchCreateOrdersV2 response", client_order_ids=ids),
        body={"orders": [request.to_json() for request in requests]},
        cost=float(len(requests)),
    )


def batch_cancel_orders(order_ids: Sequence[str]) -> Command[tuple[BatchItem, ...]]:
    """Cancel up to 20 orders at once (each 0.2 of a write); each item reports its own result or error."""
    if not 1 <= len(order_ids) <= MAX_BATCH:
        raise ValueError(f"a batch cancel takes 1 to {MAX_BATCH} orders, got {len(order_ids)}")
    return Command(
        "DELETE",
        "/portfolio/events/orders/batched",
        batch_answer(
            kind="BatchCancelOrdersV2 response", client_order_ids=[None] * len(order_ids), order_ids=order_ids
        ),
        body={"orders": [{"order_id": order_id} for order_id in order_ids]},
        cost=BATCH_CANCEL_COST * len(order_ids),
    )


def cancel_all_orders() -> Command[None]:
    """Cancel every resting order of the account (a kill switch); orders placed in the next minute may go too."""
    return Command("DELETE", "/portfolio/events/orders", _empty)


def queue_positions(
    *, market_tickers: Sequence[str] | None = None, event_ticker: str | None = None
) -> Query[tuple[QueuePosition, ...]]:
    """Queue positions of all our resting orders (optionally of some markets or one event)."""
    params = compact({"market_tickers": joined(market_tickers), "event_ticker": event_ticker})
    return Query("/portfolio/orders/queue_positions", parse_queue_positions, params=params, auth=True)


def queue_position(order_id: str) -> Query[Decimal]:
    """The contracts ahead of one resting order at its price."""
    return Query(
        "/portfolio/orders/{order_id}/queue_position",
        lambda data: Reader(data, "GetOrderQueuePosition response", ident=order_id).count("queue_position"),
        path_params={"order_id": order_id},
        auth=True,
    )


def fills(
    *,
    ticker: str | None = None,
    order_id: str | None = None,
    min_ts: datetime | None = None,
    max_ts: datetime | None = None,
) -> Paged[Fill]:
    params = compact({"ticker": ticker, "order_id": order_id, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("fills", parse_fill, kind="GetFills response")
    return Paged(Query("/portfolio/fills", parse, params=params, auth=True), MAX_PORTFOLIO_PAGE)


def historical_fills(
    *, ticker: str | None = None, min_ts: datetime | None = None, max_ts: datetime | None = None
) -> Paged[Fill]:
    """Our fills older than the historical cutoff (GET /historical/cutoff), which /portfolio/fills no longer lists."""
    params = compact({"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("fills", parse_fill, kind="GetHistoricalFills response")
    return Paged(Query("/historical/fills", parse, params=params, auth=True), MAX_PORTFOLIO_PAGE)


def historical_orders(
    *, ticker: str | None = None, min_ts: datetime | None = None, max_ts: datetime | None = None
) -> Paged[Order]:
    """Our orders older than the historical cutoff, which /portfolio/orders no longer lists."""
    params = compact({"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("orders", parse_order, kind="GetHistoricalOrders response")
    return Paged(Query("/historical/orders", parse, params=params, auth=True), MAX_PORTFOLIO_PAGE)


def settlements(
    *,
    ticker: str | None = None,
    event_ticker: str | None = None,
    min_ts: datetime | None = None,
    max_ts: datetime | None = None,
) -> Paged[Settlement]:
    params = compact({"ticker": ticker, "event_ticker": event_ticker, "min_ts": min_ts, "max_ts": max_ts})
    parse = page_of("settlements", parse_settlement, kind="GetSettlements response")
    return Paged(Query("/portfolio/settlements", parse, params=params, auth=True), MAX_PORTFOLIO_PAGE)


def order_groups() -> Query[tuple[OrderGroup, ...]]:
    return Query("/portfolio/order_groups", parse_order_groups, auth=True)


def order_group(order_group_id: str) -> Query[OrderGroup]:
    return Query(
        "/portfolio/order_groups/{order_group_id}",
        lambda data: parse_order_group(data, order_group_id=order_group_id),
        path_params={"order_group_id": order_group_id},
        auth=True,
    )


def create_order_group(contracts_limit: Decimal) -> Command[str]:
    """A new order group that cancels all its orders once ``contracts_limit`` match within 15 s; returns its id."""
    return Command(
        "POST",
        "/portfolio/order_groups/create",
        lambda data: Reader(data, "CreateOrderGroup response").text("order_group_id"),
        body={"contracts_limit_fp": _group_limit(contracts_limit)},
    )


def _group_limit(contracts_limit: Decimal) -> str:
    if contracts_limit <= 0 or contracts_limit % _CENT != 0:
        raise ValueError(f"contracts_limit must be positive in steps of 0.01, got {contracts_limit}")
    return str(contracts_limit.quantize(_CENT))


def reset_order_group(order_group_id: str) -> Command[None]:
    """Let a group that hit its limit take orders again."""
    return Command(
        "PUT",
        "/portfolio/order_groups/{order_group_id}/reset",
        _empty,
        path_params={"order_group_id": order_group_id},
    )


def trigger_order_group(order_group_id: str) -> Command[None]:
    """Trip the group now, as if its limit were hit: all its orders are cancelled until it is reset."""
    return Command(
        "PUT",
        "/portfolio/order_groups/{order_group_id}/trigger",
        _empty,
        path_params={"order_group_id": order_group_id},
    )


def set_order_group_limit(order_group_id: str, contracts_limit: Decimal) -> Command[None]:
    """A new limit for the group: contracts matched within 15 s before it cancels all its orders."""
    return Command(
        "PUT",
        "/portfolio/order_groups/{order_group_id}/limit",
        _empty,
        path_params={"order_group_id": order_group_id},
        body={"contracts_limit_fp": _group_limit(contracts_limit)},
    )


def delete_order_group(order_group_id: str) -> Command[None]:
    """Delete the group and cancel every order in it."""
    return Command(
        "DELETE", "/portfolio/order_groups/{order_group_id}", _empty, path_params={"order_group_id": order_group_id}
    )


def _empty(data: Any) -> None:
    """EmptyResponse: whatever the body holds (often nothing at all) means success."""
