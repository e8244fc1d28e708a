"""Readers for JSON answers: each returns the typed value or raises BadPayloadError naming the field.

``where`` is a path such as "nws hourly KNYC.periods[3].startTime", so an
error says which provider, which request and which field went wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from weather.sources.base import BadPayloadError


def as_object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise BadPayloadError(f"{where}: expected a JSON object, got {_kind(value)}")
    return value


def as_list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise BadPayloadError(f"{where}: expected a JSON array, got {_kind(value)}")
    return value


def require(obj: Mapping[str, object], key: str, where: str) -> object:
    """``obj[key]``, or BadPayloadError naming the missing field."""
    if key not in obj:
        raise BadPayloadError(f"{where}: missing field {key!r}")
    return obj[key]


def as_number(value: object, where: str) -> float | None:
    """A JSON number (or null) as float. NaN is kept for check_point; strings and booleans are errors."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadPayloadError(f"{where}: expected a number, got {value!r}")
    return float(value)


def as_coordinates(obj: Mapping[str, object], where: str) -> tuple[float, float]:
    """The required ``latitude`` and ``longitude`` fields of an answer."""
    lat, lon = (as_number(require(obj, key, where), f"{where}.{key}") for key in ("latitude", "longitude"))
    if lat is None or lon is None:
        raise BadPayloadError(f"{where}: latitude/longitude are null")
    return lat, lon


def as_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BadPayloadError(f"{where}: expected a string, got {_kind(value)}")
    return value


def as_instant(value: object, where: str) -> datetime:
    """An ISO 8601 time with an offset ("2025-07-04T14:00:00-04:00", "...Z") as aware UTC."""
    text = as_text(value, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadPayloadError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if parsed.utcoffset() is None:
        raise BadPayloadError(f"{where}: {text!r} has no UTC offset")
    return parsed.astimezone(UTC)


def as_epoch(value: object, where: str) -> datetime:
    """Unix seconds as aware UTC."""
    seconds = as_number(value, where)
    if seconds is None or not math.isfinite(seconds):
        raise BadPayloadError(f"{where}: expected Unix seconds, got {value!r}")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayloadError(f"{where}: {value!r} is not a representable Unix time") from None


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
