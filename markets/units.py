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

_CENT = Decimal("0.01")
_FIXED_POINT = re.compile(r"^-?\d+(\.\d+)?$")
# Exact dollar values of 0..100 cents, built once: the legacy history files carry
# millions of integer prices and this keeps their conversion to a lookup.
_CENTS_AS_DOLLARS = tuple(Decimal(n) * _CENT for n in range(101))
# The same values as text ("0.00" ... "1.00"), for bulk writers.
CENTS_TEXT: tuple[str, ...] = tuple(str(value) for value in _CENTS_AS_DOLLARS)


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

    Returns None when neither field is present (null or "" both mean absent:
    real order responses carry ``"taker_fill_cost_dollars": ""``). When both
    are present they must agree, as the API documents. (Labels for error
    messages are built only on failure: this runs millions of times in imports.)
    """
    fixed = obj.get(name + "_dollars")
    legacy = obj.get(name)
    if legacy == "":
        legacy = None
    if fixed is not None and fixed != "":
        value = _fixed(fixed) if type(fixed) is str else None
        if value is None:
            raise UnitError(
                f"{_label(where, name)}_dollars: expected a fixed-point dollar string like '0.4200', got {fixed!r}"
            )
        if legacy is not None and not isinstance(legacy, str) and cents(legacy, field=_label(where, name)) != value:
            raise UnitError(f"{_label(where, name)}: {name}_dollars={fixed!r} disagrees with {name}={legacy!r}")
        return value
    if legacy is None:
        return None
    if type(legacy) is int and 0 <= legacy <= 100:
        return _CENTS_AS_DOLLARS[legacy]
    return cents(legacy, field=_label(where, name))


def count_of(obj: Mapping[str, object], name: str, *, where: str = "") -> Decimal | None:
    """The count ``name`` from ``<name>_fp`` or else the legacy integer ``<name>``; null or "" is absent."""
    fixed = obj.get(name + "_fp")
    if fixed is not None and fixed != "":
        return count(fixed, field=_label(where, name + "_fp"))
    legacy = obj.get(name)
    if legacy is None or legacy == "":
        return None
    if type(legacy) is int:
        return Decimal(legacy)
    return count(legacy, field=_label(where, name))


def _label(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _fixed(value: str) -> Decimal | None:
    return Decimal(value) if _FIXED_POINT.match(value) else None


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


def utc_text(value: object, *, field: str) -> str:
    """A timestamp as naive UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]', the form Django stores.

    Bulk writers use it to skip datetime formatting: once ``fromisoformat`` has
    accepted a '...Z' value in the extended format, its date and time are
    sliced out as they stand. Anything else goes through :func:`timestamp`.
    """
    if type(value) is str and len(value) >= 20 and value[-1] == "Z" and value[10] == "T" and value[19] in ".Z":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise UnitError(f"{field}: {value!r} is not an RFC 3339 timestamp") from None
        return stored_utc_text(value[:10], value[11:19], f"{parsed.microsecond:06d}")
    return stored_utc(timestamp(value, field=field))


def stored_utc(moment: datetime) -> str:
    """An aware time as naive UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]', the form Django stores."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def stored_utc_text(day: str, clock: str, fraction: str) -> str:
    """'YYYY-MM-DD HH:MM:SS[.ffffff]' from its parts, as Django stores a UTC time: six digits, none when zero.

    ``fraction`` is the digits after the second's point, at most six ('25' is .25 s).
    """
    return f"{day} {clock}.{fraction:0<6}" if fraction.strip("0") else f"{day} {clock}"


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


_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


def settled_number(expiration_value: str) -> Decimal | None:
    """The value a market settled on, from Kalshi's expiration_value: '50.00' → 50.00.

    Usually a number; occasionally a number followed by an explanation ('84. Although
    the Daily Climate Report was not finalized ...'), whose leading number is the value.
    None when there is no leading number.
    """
    match = _LEADING_NUMBER.match(expiration_value)
    return Decimal(match.group(1)) if match else None


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
