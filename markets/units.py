"""Kalshi's wire units, parsed once at the edge: prices, counts and timestamps.

Kalshi moved from integer cents to fixed-point strings: ``yes_bid_dollars:
"0.4200"`` (FixedPointDollars, up to 6 decimals) and ``volume_fp: "10.00"``
(FixedPointCount, 2 decimals). Older data (and this project's 2024-25 history
files) carry the legacy integer fields ``yes_bid: 42`` (cents) and
``volume: 10``. Every reader of Kalshi payloads goes through these functions,
so a price is a Decimal in dollars wherever it came from, and a value that
does not fit is a :class:`UnitError` naming the field, never a float.

Pure functions with no Django imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

ONE_DOLLAR = Decimal(1)
_CENT = Decimal("0.01")
_FIXED_POINT = re.compile(r"^-?\d+(\.\d+)?$")
# Exact dollar values of 0..100 cents, built once: the legacy history files carry
# millions of integer prices and this keeps their conversion to a lookup.
_CENTS_AS_DOLLARS = tuple(Decimal(n) * _CENT for n in range(101))


class UnitError(ValueError):
    """A value that is not what Kalshi documents; the message names the field."""


def dollars(value: object, *, field: str) -> Decimal:
    """A FixedPointDollars string ("0.4200") as Decimal dollars."""
    if not isinstance(value, str) or not _FIXED_POINT.match(value):
        raise UnitError(f"{field}: expected a fixed-point dollar string like '0.4200', got {value!r}")
    return Decimal(value)


def cents(value: object, *, field: str) -> Decimal:
    """A legacy integer number of cents as Decimal dollars (42 → 0.42)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnitError(f"{field}: expected an integer number of cents, got {value!r}")
    if 0 <= value <= 100:
        return _CENTS_AS_DOLLARS[value]
    return Decimal(value) * _CENT


def count(value: object, *, field: str) -> Decimal:
    """A FixedPointCount string ("10.00") or a legacy integer count, as Decimal contracts."""
    if isinstance(value, bool):
        raise UnitError(f"{field}: expected a contract count, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _FIXED_POINT.match(value):
        return Decimal(value)
    raise UnitError(f"{field}: expected a contract count like '10.00' or 10, got {value!r}")


def price_of(obj: Mapping[str, object], name: str, *, where: str = "") -> Decimal | None:
    """The price ``name`` in dollars, from ``<name>_dollars`` or else legacy ``<name>`` cents.

    Returns None when neither field is present (or both are null). When both
    are present they must agree, as the API documents.
    """
    label = f"{where}.{name}" if where else name
    fixed = obj.get(f"{name}_dollars")
    legacy = obj.get(name)
    if fixed is not None:
        value = dollars(fixed, field=f"{label}_dollars")
        if legacy is not None and not isinstance(legacy, str) and cents(legacy, field=label) != value:
            raise UnitError(f"{label}: {name}_dollars={fixed!r} disagrees with {name}={legacy!r}")
        return value
    if legacy is None:
        return None
    return cents(legacy, field=label)


def count_of(obj: Mapping[str, object], name: str, *, where: str = "") -> Decimal | None:
    """The count ``name`` from ``<name>_fp`` or else the legacy integer ``<name>``."""
    label = f"{where}.{name}" if where else name
    fixed = obj.get(f"{name}_fp")
    if fixed is not None:
        return count(fixed, field=f"{label}_fp")
    legacy = obj.get(name)
    return None if legacy is None else count(legacy, field=label)


def timestamp(value: object, *, field: str) -> datetime:
    """An RFC 3339 time ("2024-08-15T14:16:59.4937Z", 0-6 fraction digits) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise UnitError(f"{field}: expected an RFC 3339 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UnitError(f"{field}: {value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise UnitError(f"{field}: {value!r} has no time zone")
    return parsed.astimezone(UTC)


def optional_timestamp(value: object, *, field: str) -> datetime | None:
    """Like :func:`timestamp`, but None or "" (Kalshi's 'not set') give None."""
    if value is None or value == "":
        return None
    return timestamp(value, field=field)


def epoch_seconds(value: object, *, field: str) -> datetime:
    """A Unix time in seconds (Kalshi's *_ts fields) as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnitError(f"{field}: expected Unix seconds, got {value!r}")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise UnitError(f"{field}: {value!r} is not a representable Unix time") from None


def decimal_text(value: object, *, field: str) -> Decimal:
    """A strike or settlement value given as a number or numeric string (e.g. 84, '50.00')."""
    if isinstance(value, bool):
        raise UnitError(f"{field}: expected a number, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Strikes arrive as JSON numbers (84, 44.5); repr gives the shortest exact text.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise UnitError(f"{field}: {value!r} is not a number") from None
        if number.is_finite():
            return number
    raise UnitError(f"{field}: expected a number, got {value!r}")
