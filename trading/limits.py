"""The hard limits every order is checked against, and the trading state, as plain values.

The admin edits them as the ``RiskLimits`` and ``TradingState`` rows; the pure
core receives them as these, so live trading and backtests check one set of
rules in one place (trading.risk).

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum


class TradingStatus(StrEnum):
    """The kill switch: ACTIVE trades, REDUCE_ONLY only shrinks positions, HALTED places nothing."""

    ACTIVE = "active"
    REDUCE_ONLY = "reduce_only"
    HALTED = "halted"


class Rule(StrEnum):
    """Each pre-trade rule by name: what refused or reduced an order, for people and for counting."""

    HALTED = "halted"
    REDUCE_ONLY = "reduce_only"
    UNRESOLVED = "unresolved_order"
    MIN_PRICE = "min_price"
    MAX_PRICE = "max_price"
    NO_PRICE = "no_price"
    STALE_PRICE = "max_data_age"
    DAILY_LOSS = "max_daily_loss"
    DRAWDOWN = "max_drawdown"
    FEES = "unknown_fees"
    ORDER_CONTRACTS = "max_order_contracts"
    POSITION_CONTRACTS = "max_position_contracts"
    DEPTH = "max_depth_fraction"
    ORDER_COST = "max_order_cost"
    EVENT_EXPOSURE = "max_event_exposure"
    CITY_DAY_EXPOSURE = "max_city_day_exposure"
    TOTAL_EXPOSURE = "max_total_exposure"
    CASH = "cash_available"


@dataclass(frozen=True)
class Limits:
    max_order_contracts: Decimal = Decimal(10)
    max_order_cost: Decimal = Decimal(10)
    max_position_contracts: Decimal = Decimal(50)
    max_event_exposure: Decimal = Decimal(50)
    max_city_day_exposure: Decimal = Decimal(75)
    max_total_exposure: Decimal = Decimal(250)
    max_daily_loss: Decimal = Decimal(50)
    max_drawdown: Decimal = Decimal(150)
    min_price: Decimal = Decimal("0.05")  # never buy a side cheaper than this
    max_price: Decimal = Decimal("0.95")  # nor dearer
    max_depth_fraction: Decimal = Decimal("0.25")  # of the size displayed at the price taken
    max_data_age: timedelta = timedelta(hours=6)  # a price older than this is not a price


@dataclass(frozen=True)
class Sizing:
    """How much a model strategy trades: the edge it needs and the share of Kelly it stakes."""

    min_edge: Decimal = Decimal("0.03")  # expected value per contract after fees, dollars
    kelly_fraction: Decimal = Decimal("0.25")
    market_shrinkage: Decimal = Decimal("0.50")  # weight on the market's price before sizing
