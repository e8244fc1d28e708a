"""Kalshi-shaped payloads and arguments written for these tests (not copied from the spec or any response).

Each payload builder returns a fresh dict in the current fixed-point shape
unless its name says legacy; keyword arguments override or add fields, and a
value of ``DROP`` removes one. :func:`call_with_samples` calls any client
method or endpoint function with an argument for every parameter, so tests
can sweep a whole surface, including methods added later.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from markets import endpoints
from markets.calls import Command, Paged, Query
from markets.schemas import (
    AmendOrderRequest,
    BookSide,
    CandlestickInterval,
    CreateOrderRequest,
    EventStatusFilter,
    MarketStatusFilter,
    OrderStatus,
    TimeInForce,
)

DROP = object()

TICKER = "KXHIGHNY-26MAR02-B44.5"
EVENT = "KXHIGHNY-26MAR02"
SERIES = "KXHIGHNY"


def _with(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {key: value for key, value in merged.items() if value is not DROP}


def market(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "ticker": TICKER,
            "event_ticker": EVENT,
            "market_type": "binary",
            "yes_sub_title": "44° to 45°",
            "no_sub_title": "44° to 45°",
            "created_time": "2026-02-28T15:00:00Z",
            "updated_time": "2026-03-01T12:00:00.123Z",
            "open_time": "2026-03-01T15:00:00Z",
            "close_time": "2026-03-03T04:59:00Z",
            "expected_expiration_time": "2026-03-03T15:00:00Z",
            "latest_expiration_time": "2026-03-09T15:00:00Z",
            "settlement_timer_seconds": 1800,
            "status": "active",
            "yes_bid_dollars": "0.3100",
            "yes_ask_dollars": "0.3300",
            "no_bid_dollars": "0.6700",
            "no_ask_dollars": "0.6900",
            "last_price_dollars": "0.3200",
            "volume_fp": "1520.00",
            "volume_24h_fp": "310.50",
            "open_interest_fp": "875.00",
            "result": "",
            "can_close_early": True,
            "fractional_trading_enabled": False,
            "expiration_value": "",
            "strike_type": "between",
            "floor_strike": 44,
            "cap_strike": 45,
            "rules_primary": "Resolves Yes if the high in Central Park is 44-45°F.",
            "price_level_structure": "linear_cent",
            "price_ranges": [{"start": "0.01", "end": "0.99", "step": "0.01"}],
            "some_field_added_next_month": {"nested": [1, 2, 3]},
        },
        overrides,
    )


def legacy_market(**overrides: Any) -> dict[str, Any]:
    """The 2024 shape: integer cents and counts, subtitles, no fixed-point fields."""
    return _with(
        {
            "ticker": "HIGHNY-24AUG16-T84",
            "event_ticker": "HIGHNY-24AUG16",
            "market_type": "binary",
            "title": "",
            "subtitle": "83° or below",
            "yes_sub_title": "83° or below",
            "no_sub_title": "83° or below",
            "open_time": "2024-08-15T14:00:00Z",
            "close_time": "2024-08-17T03:59:00Z",
            "expiration_time": "2024-08-23T14:00:00Z",
            "status": "finalized",
            "yes_bid": 3,
            "yes_ask": 5,
            "no_bid": 95,
            "no_ask": 97,
            "last_price": 4,
            "volume": 136,
            "open_interest": 120,
            "result": "no",
            "settlement_value": 0,
            "expiration_value": "86.00",
            "strike_type": "less",
            "cap_strike": 84,
        },
        overrides,
    )


def event(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "event_ticker": EVENT,
            "series_ticker": SERIES,
            "title": "Highest temperature in NYC on Mar 2, 2026?",
            "sub_title": "On Mar 2, 2026",
            "collateral_return_type": "MECNET",
            "mutually_exclusive": True,
            "strike_date": "2026-03-03T04:59:00Z",
            "available_on_brokers": False,
            "product_metadata": None,
        },
        overrides,
    )


def series(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "ticker": SERIES,
            "frequency": "daily",
            "title": "Highest temperature in NYC",
            "category": "Climate and Weather",
            "tags": ["Weather", "Temperature"],
            "settlement_sources": [{"name": "National Weather Service", "url": "https://www.weather.gov/"}],
            "contract_url": "https://example.org/contract.pdf",
            "contract_terms_url": "https://example.org/terms.pdf",
            "fee_type": "quadratic",
            "fee_multiplier": 1,
            "additional_prohibitions": [],
        },
        overrides,
    )


def trade(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "trade_id": "7d0c6d4e-trade-1",
            "ticker": TICKER,
            "count_fp": "12.00",
            "yes_price_dollars": "0.3200",
            "no_price_dollars": "0.6800",
            "taker_side": "yes",
            "created_time": "2026-03-02T14:03:11.52Z",
        },
        overrides,
    )


def order(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "order_id": "ord-1",
            "user_id": "user-1",
            "client_order_id": "kw-1",
            "ticker": TICKER,
            "side": "yes",  # deprecated, still sent beside outcome_side/book_side
            "action": "buy",
            "outcome_side": "yes",
            "book_side": "bid",
            "type": "limit",
            "status": "resting",
            "yes_price_dollars": "0.3100",
            "no_price_dollars": "0.6900",
            "fill_count_fp": "2.00",
            "remaining_count_fp": "8.00",
            "initial_count_fp": "10.00",
            "taker_fees_dollars": "0.0200",
            "maker_fees_dollars": "0.0000",
            "taker_fill_cost_dollars": "0.6200",
            "maker_fill_cost_dollars": "0.0000",
            "created_time": "2026-03-02T14:00:00Z",
            "expiration_time": None,
            "order_group_id": None,
        },
        overrides,
    )


def fill(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "fill_id": "fill-1",
            "trade_id": "trade-9",
            "order_id": "ord-1",
            "ticker": TICKER,
            "market_ticker": TICKER,
            "side": "yes",
            "action": "buy",
            "outcome_side": "yes",
            "book_side": "bid",
            "count_fp": "2.00",
            "yes_price_dollars": "0.3100",
            "no_price_dollars": "0.6900",
            "is_taker": True,
            "created_time": "2026-03-02T14:00:01Z",
            "fee_cost": "0.0200",
        },
        overrides,
    )


def settlement(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "ticker": TICKER,
            "event_ticker": EVENT,
            "market_result": "yes",
            "yes_count_fp": "10.00",
            "yes_total_cost_dollars": "3.1000",
            "no_count_fp": "0.00",
            "no_total_cost_dollars": "0.0000",
            "revenue": 1000,
            "settled_time": "2026-03-03T15:30:00Z",
            "fee_cost": "0.1500",
            "value": 100,
        },
        overrides,
    )


def orderbook_fp(yes: list[list[str]], no: list[list[str]]) -> dict[str, Any]:
    return {"orderbook_fp": {"yes_dollars": yes, "no_dollars": no}}


def candlestick(**overrides: Any) -> dict[str, Any]:
    def ohlc(open_: str, low: str, high: str, close: str) -> dict[str, str]:
        return {"open_dollars": open_, "low_dollars": low, "high_dollars": high, "close_dollars": close}

    return _with(
        {
            "end_period_ts": 1772463600,
            "yes_bid": ohlc("0.3000", "0.2900", "0.3200", "0.3100"),
            "yes_ask": ohlc("0.3200", "0.3100", "0.3400", "0.3300"),
            "price": {
                **ohlc("0.3100", "0.3000", "0.3300", "0.3200"),
                "mean_dollars": "0.3150",
                "previous_dollars": None,
            },
            "volume_fp": "40.00",
            "open_interest_fp": "875.00",
        },
        overrides,
    )


def order_request(**overrides: Any) -> CreateOrderRequest:
    fields: dict[str, Any] = {
        "ticker": TICKER,
        "side": BookSide.BID,
        "count": Decimal(10),
        "price": Decimal("0.31"),
        "client_order_id": "kw-1",
        "time_in_force": TimeInForce.GOOD_TILL_CANCELED,
    }
    return CreateOrderRequest(**{**fields, **overrides})


def amend_request(**overrides: Any) -> AmendOrderRequest:
    fields: dict[str, Any] = {
        "ticker": TICKER,
        "side": BookSide.BID,
        "count": Decimal(8),
        "price": Decimal("0.32"),
        "client_order_id": "kw-1",
        "updated_client_order_id": "kw-1b",
    }
    return AmendOrderRequest(**{**fields, **overrides})


def sample_argument(annotation: Any, where: str) -> Any:
    """An argument of the annotated type; fails the test, naming ``where``, for a type it does not know."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return sample_argument(next(a for a in typing.get_args(annotation) if a is not type(None)), where)
    if origin is Sequence and typing.get_args(annotation) == (CreateOrderRequest,):
        return [order_request(), order_request(client_order_id="kw-2", side=BookSide.ASK, price=Decimal("0.35"))]
    samples: dict[Any, Any] = {
        str: "X-1",
        int: 5,
        bool: True,
        Decimal: Decimal(5),
        datetime: datetime(2026, 3, 2, 15, tzinfo=UTC),
        CreateOrderRequest: order_request(),
        AmendOrderRequest: amend_request(),
        CandlestickInterval: CandlestickInterval.HOUR,
        EventStatusFilter: EventStatusFilter.OPEN,
        MarketStatusFilter: MarketStatusFilter.OPEN,
        OrderStatus: OrderStatus.RESTING,
        Sequence: ["X-1", "X-2"],
        Query: endpoints.exchange_status(),
        Command: endpoints.cancel_order("ord-1"),
        Paged: endpoints.markets(),
    }
    for kind, value in samples.items():
        if annotation is kind or origin is kind:
            return value
    pytest.fail(f"add a sample for {where}: {annotation} to markets/tests/kalshi_payloads.py")


def call_with_samples(function: Callable[..., Any]) -> Any:
    """Call ``function`` with a sample for every parameter, optional ones included."""
    hints = typing.get_type_hints(function)
    parameters = inspect.signature(function).parameters.values()
    where = getattr(function, "__qualname__", repr(function))
    args = [
        sample_argument(hints[p.name], f"{where}({p.name})") for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    kwargs = {
        p.name: sample_argument(hints[p.name], f"{where}({p.name})") for p in parameters if p.kind is p.KEYWORD_ONLY
    }
    return function(*args, **kwargs)


def cli_url(code: str, office: str) -> str:
    """A settlement-source URL of the NWS Daily Climate Report, as weather series list it."""
    return f"https://forecast.weather.gov/product.php?site={office}&product=CLI&issuedby={code}"


def historical_cutoff(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "market_settled_ts": "2026-03-01T00:00:00Z",
            "trades_created_ts": "2026-03-01T00:00:00Z",
            "orders_updated_ts": "2026-03-01T00:00:00Z",
        },
        overrides,
    )
