"""Every Kalshi endpoint the product uses, as request descriptions with their parsers.

``endpoints.market("KXHIGHNY-25FEB28-B44.5")`` builds a
:class:`~markets.calls.Query`; ``KalshiClient.fetch`` or
``AsyncKalshiClient.fetch`` sends it. List endpoints return
:class:`~markets.calls.Paged` (stream them with ``client.pages()`` or
``client.iterate()``); mutating ones return :class:`~markets.calls.Command`
(``client.submit()``). Pure package with no Django imports.
"""

from __future__ import annotations

from markets.endpoints.market_data import (
    batch_candlesticks,
    event,
    events,
    exchange_status,
    historical_candlesticks,
    historical_cutoff,
    historical_market,
    historical_markets,
    historical_trades,
    market,
    market_candlesticks,
    markets,
    orderbook,
    orderbooks,
    series,
    series_fee_changes,
    series_list,
    trades,
)
from markets.endpoints.portfolio import (
    account_limits,
    amend_order,
    balance,
    batch_cancel_orders,
    batch_create_orders,
    cancel_all_orders,
    cancel_order,
    create_order,
    create_order_group,
    decrease_order,
    decrease_order_to,
    delete_order_group,
    fills,
    order,
    order_group,
    order_groups,
    orders,
    positions,
    reset_order_group,
    settlements,
)

__all__ = [
    "account_limits",
    "amend_order",
    "balance",
    "batch_cancel_orders",
    "batch_candlesticks",
    "batch_create_orders",
    "cancel_all_orders",
    "cancel_order",
    "create_order",
    "create_order_group",
    "decrease_order",
    "decrease_order_to",
    "delete_order_group",
    "event",
    "events",
    "exchange_status",
    "fills",
    "historical_candlesticks",
    "historical_cutoff",
    "historical_market",
    "historical_markets",
    "historical_trades",
    "market",
    "market_candlesticks",
    "markets",
    "order",
    "order_group",
    "order_groups",
    "orderbook",
    "orderbooks",
    "orders",
    "positions",
    "reset_order_group",
    "series",
    "series_fee_changes",
    "series_list",
    "settlements",
    "trades",
]
