"""Authenticated endpoints: account limits, balance, positions, orders, fills, settlements, order groups.

Every :class:`~markets.calls.Command` here changes state on the exchange:
clients never retry them and never send them in DRY mode. Only order
mutations count against the write rate limit; order-group changes are
counted as writes too, erring on the side of sending less.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from markets.calls import Command, Page, Paged, Query, compact
from markets.endpoints.pages import joined, page_of
from markets.ratelimit import BATCH_CANCEL_COST
from markets.schemas import (
    AccountLimits,
    Balance,
    BatchCancelItem,
    CancelResult,
    CreateOrderRequest,
    Fill,
    Order,
    OrderGroup,
    OrderStatus,
    Positions,
    Settlement,
    parse_account_limits,
    parse_balance,
    parse_batch_cancel,
    parse_cancel_result,
    parse_fill,
    parse_order,
    parse_order_group,
    parse_order_groups,
    parse_positions,
    parse_settlement,
)
from markets.schemas.reader import Reader, unwrap

MAX_PORTFOLIO_PAGE = 1000
MAX_BATCH_CANCEL = 20
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


def create_order(request: CreateOrderRequest) -> Command[Order]:
    return Command(
        "POST",
        "/portfolio/orders",
        lambda data: parse_order(unwrap(data, "CreateOrder response", "order")),
        body=request.to_json(),
        client_order_id=request.client_order_id,
    )


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


def cancel_order(order_id: str) -> Command[CancelResult]:
    return Command("DELETE", "/portfolio/orders/{order_id}", parse_cancel_result, path_params={"order_id": order_id})


def batch_cancel_orders(order_ids: Sequence[str]) -> Command[tuple[BatchCancelItem, ...]]:
    """Cancel up to 20 orders at once; each costs 0.2 of a write."""
    if not 1 <= len(order_ids) <= MAX_BATCH_CANCEL:
        raise ValueError(f"a batch cancel takes 1 to {MAX_BATCH_CANCEL} orders, got {len(order_ids)}")
    return Command(
        "DELETE",
        "/portfolio/orders/batched",
        parse_batch_cancel,
        body={"orders": [{"order_id": order_id} for order_id in order_ids]},
        cost=BATCH_CANCEL_COST * len(order_ids),
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
    if contracts_limit <= 0 or contracts_limit % _CENT != 0:
        raise ValueError(f"contracts_limit must be positive in steps of 0.01, got {contracts_limit}")
    return Command(
        "POST",
        "/portfolio/order_groups/create",
        lambda data: Reader(data, "CreateOrderGroup response").text("order_group_id"),
        body={"contracts_limit_fp": str(contracts_limit.quantize(_CENT))},
    )


def reset_order_group(order_group_id: str) -> Command[None]:
    """Let a group that hit its limit take orders again."""
    return Command(
        "PUT",
        "/portfolio/order_groups/{order_group_id}/reset",
        _empty,
        path_params={"order_group_id": order_group_id},
    )


def delete_order_group(order_group_id: str) -> Command[None]:
    """Delete the group and cancel every order in it."""
    return Command(
        "DELETE", "/portfolio/order_groups/{order_group_id}", _empty, path_params={"order_group_id": order_group_id}
    )


def _empty(data: Any) -> None:
    """EmptyResponse: whatever the body holds (often nothing at all) means success."""
