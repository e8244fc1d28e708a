"""Reading one JSON object with errors that say what was wrong where.

Every parse function wraps the object it reads in a :class:`Reader`, which
knows the object's kind and id (``Market 'KXHIGHNY-25FEB28-B44.5'``). A
missing field, a wrong type or an unknown enum value becomes a
:class:`~markets.errors.BadResponse` naming object, id and field, never a
KeyError from deep inside. Prices, counts and times go through
:mod:`markets.units`, so both the fixed-point fields (``yes_bid_dollars``,
``volume_fp``) and the legacy integer ones (``yes_bid`` cents, ``volume``) are
read the same way. Unknown extra fields are ignored: the spec churns monthly.

Tolerant where it is safe, strict where money is decided: null and ``""``
mean "absent" in every optional field (production order responses carry
``"taker_fill_cost_dollars": ""``), and :meth:`Reader.open_enum` keeps an
unknown value of an open set (a new ``fee_type``, a new order status) as its
raw text for the code that decides money to refuse. A value that is present
but malformed (``"0.4x"`` as a price) is always an error naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from markets import units
from markets.errors import BadResponse

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Enum)
T = TypeVar("T")
_MISSING = object()


class Reader:
    """One JSON object of kind ``kind``; ``key`` names the field holding its id, if any."""

    __slots__ = ("_data", "label")

    def __init__(self, data: object, kind: str, key: str | None = None, *, ident: str | None = None) -> None:
        if not isinstance(data, Mapping):
            raise BadResponse(f"{kind}: expected a JSON object, got {_kind_of(data)}")
        self._data: Mapping[str, Any] = data
        if ident is None and key is not None and isinstance(data.get(key), str):
            ident = data[key]
        self.label = f"{kind} {ident!r}" if ident else kind

    @property
    def raw(self) -> Mapping[str, Any]:
        """The object as received."""
        return self._data

    def fail(self, field: str, problem: str) -> BadResponse:
        return BadResponse(f"{self.label}: field {field!r}: {problem}")

    def has(self, name: str) -> bool:
        """Whether ``name`` is present: null and "" both mean absent."""
        value = self._data.get(name)
        return value is not None and value != ""

    def _get(self, name: str) -> object:
        value = self._data.get(name, _MISSING)
        if value is _MISSING or value is None:
            raise self.fail(name, "missing" if value is _MISSING else "is null")
        return value

    def _typed(self, name: str, value: object, expected: type | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,)):
            raise self.fail(name, f"expected {what}, got {value!r}")
        if not isinstance(value, expected):
            raise self.fail(name, f"expected {what}, got {_kind_of(value)}")
        return value

    # --- plain JSON values ---------------------------------------------------------------

    def text(self, name: str) -> str:
        result: str = self._typed(name, self._get(name), str, "a string")
        return result

    def opt_text(self, name: str, default: str = "") -> str:
        return self.text(name) if self.has(name) else default

    def flag(self, name: str) -> bool:
        result: bool = self._typed(name, self._get(name), bool, "true or false")
        return result

    def opt_flag(self, name: str, default: bool = False) -> bool:
        return self.flag(name) if self.has(name) else default

    def integer(self, name: str) -> int:
        result: int = self._typed(name, self._get(name), int, "an integer")
        return result

    def opt_integer(self, name: str) -> int | None:
        return self.integer(name) if self.has(name) else None

    def enum(self, name: str, kind: type[E]) -> E:
        value = self._get(name)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in kind)
            raise self.fail(name, f"unknown value {value!r} (expected one of {allowed})") from None

    def opt_enum(self, name: str, kind: type[E]) -> E | None:
        return self.enum(name, kind) if self.has(name) else None

    def open_enum(self, name: str, kind: type[E]) -> E | str:
        """A member of ``kind``, or the raw text of a value Kalshi added since (logged, never guessed at).

        For sets that grow (fee types, order statuses) where one new value must
        not fail a whole page: the caller that decides money compares against
        members, so an unknown value is refused there (see ``trading.fees``).
        """
        value = self._typed(name, self._get(name), str, "a string")
        try:
            return kind(value)
        except ValueError:
            logger.warning("%s: field %r: unknown value %r kept as text", self.label, name, value)
            result: str = value
            return result

    def texts(self, name: str) -> tuple[str, ...]:
        """A list of strings; null or absent is empty (Kalshi sends null for empty lists)."""
        items = self.array(name)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{name}[{index}]", f"expected a string, got {_kind_of(item)}")
        return tuple(items)

    def array(self, name: str) -> list[Any]:
        """A JSON array; null or absent is empty."""
        if not self.has(name):
            return []
        result: list[Any] = self._typed(name, self._data[name], list, "an array")
        return result

    def mapping(self, name: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self._typed(name, self._get(name), Mapping, "an object")
        return result

    # --- Kalshi units, via markets.units ---------------------------------------------------

    def convert(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a markets.units parser, turning its UnitError into a BadResponse about this object."""
        try:
            return call(*args, **kwargs)
        except units.UnitError as exc:
            raise BadResponse(f"{self.label}: {exc}") from None

    def opt_price(self, name: str) -> Decimal | None:
        """``<name>_dollars`` (fixed point) or legacy ``<name>`` (cents) as Decimal dollars."""
        return self.convert(units.price_of, self._data, name)

    def price(self, name: str) -> Decimal:
        value = self.opt_price(name)
        if value is None:
            raise self.fail(f"{name}_dollars", "missing (and no legacy cents field either)")
        return value

    def opt_count(self, name: str) -> Decimal | None:
        """``<name>_fp`` (fixed point) or legacy integer ``<name>`` as Decimal contracts."""
        return self.convert(units.count_of, self._data, name)

    def count(self, name: str) -> Decimal:
        value = self.opt_count(name)
        if value is None:
            raise self.fail(f"{name}_fp", "missing (and no legacy integer field either)")
        return value

    def dollars(self, name: str) -> Decimal:
        """A field that is always a fixed-point dollar string, whatever its name (e.g. ``fee_cost``)."""
        return self.convert(units.dollars, self._get(name), field=name)

    def opt_dollars(self, name: str) -> Decimal | None:
        """An optional fixed-point dollar string (V2 answers: ``average_fill_price``); null or "" is absent."""
        return self.dollars(name) if self.has(name) else None

    def cents(self, name: str) -> Decimal:
        """A field that is integer cents in the API (balances, revenue) as Decimal dollars."""
        return self.convert(units.cents, self._get(name), field=name)

    def opt_cents(self, name: str) -> Decimal | None:
        return self.cents(name) if self.has(name) else None

    def money(self, name: str) -> Decimal | None:
        """A dollar amount that newer payloads send as a string and older ones as integer cents."""
        if not self.has(name):
            return None
        value = self._data[name]
        if isinstance(value, str):
            return self.dollars(name)
        return self.cents(name)

    def decimal(self, name: str) -> Decimal:
        """A number or numeric string (strikes, fee multipliers) as an exact Decimal."""
        return self.convert(units.decimal_text, self._get(name), field=name)

    def opt_decimal(self, name: str) -> Decimal | None:
        return self.decimal(name) if self.has(name) else None

    def time(self, name: str) -> datetime:
        return self.convert(units.timestamp, self._get(name), field=name)

    def opt_time(self, name: str) -> datetime | None:
        return self.convert(units.optional_timestamp, self._data.get(name), field=name)

    def epoch(self, name: str) -> datetime:
        return self.convert(units.epoch_seconds, self._get(name), field=name)

    def opt_epoch(self, name: str) -> datetime | None:
        return self.epoch(name) if self.has(name) else None

    def moment(self, name: str) -> datetime:
        """A time sent either as RFC 3339 text or as Unix seconds (the API has used both)."""
        value = self._get(name)
        return self.epoch(name) if isinstance(value, int | float) and not isinstance(value, bool) else self.time(name)


def unwrap(data: object, kind: str, key: str) -> Mapping[str, Any]:
    """The object under ``key`` of a response wrapper such as ``{"market": {...}}``, or BadResponse."""
    return Reader(data, kind).mapping(key)


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    names = {
        bool: "a boolean",
        str: "a string",
        int: "a number",
        float: "a number",
        list: "an array",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)
