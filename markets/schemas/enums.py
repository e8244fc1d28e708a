"""The closed sets of values Kalshi documents, as string enums.

A value outside them is a :class:`~markets.errors.BadResponse`, never a
silent default, except in the sets Kalshi grows (fee types, order statuses):
there the parser keeps the raw text (``Reader.open_enum``) so one new value
cannot fail a whole page, and the code that decides money refuses what it
does not know. Values kept only for older data say so.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Side(StrEnum):
    YES = "yes"
    NO = "no"


class Action(StrEnum):
    BUY = "buy"
    SELL = "sell"


class BookSide(StrEnum):
    """The side of Kalshi's one YES book that a V2 order takes: ``bid`` buys YES, ``ask`` sells YES.

    Selling YES with none held opens a NO position: buying NO at q is an ``ask`` at 1 - q.
    """

    BID = "bid"
    ASK = "ask"


class SelfTradePrevention(StrEnum):
    """``self_trade_prevention_type`` of a V2 order: which of our own crossing orders gives way."""

    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"


class TimeInForce(StrEnum):
    FILL_OR_KILL = "fill_or_kill"
    GOOD_TILL_CANCELED = "good_till_canceled"
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"


class MarketStatus(StrEnum):
    INITIALIZED = "initialized"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"
    DETERMINED = "determined"
    DISPUTED = "disputed"
    AMENDED = "amended"
    FINALIZED = "finalized"
    SETTLED = "settled"  # older payloads only


class MarketStatusFilter(StrEnum):
    """The ``status`` filter of GET /markets: a different vocabulary from :class:`MarketStatus`."""

    UNOPENED = "unopened"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    SETTLED = "settled"


class EventStatusFilter(StrEnum):
    """The ``status`` filter of GET /events."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"
    SETTLED = "settled"


class MarketType(StrEnum):
    BINARY = "binary"
    SCALAR = "scalar"


class MarketResult(StrEnum):
    UNDETERMINED = ""
    YES = "yes"
    NO = "no"
    SCALAR = "scalar"
    VOID = "void"  # settlements report it; markets may too


class StrikeType(StrEnum):
    GREATER = "greater"
    GREATER_OR_EQUAL = "greater_or_equal"
    LESS = "less"
    LESS_OR_EQUAL = "less_or_equal"
    BETWEEN = "between"
    FUNCTIONAL = "functional"
    CUSTOM = "custom"
    STRUCTURED = "structured"


class FeeType(StrEnum):
    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"  # no formula here yet: trading refuses it
    FLAT = "flat"


class CandlestickInterval(IntEnum):
    """``period_interval`` of the candlestick endpoints, in minutes."""

    MINUTE = 1
    HOUR = 60
    DAY = 1440
