"""Argument types of the prediction commands: an instant (--as-of) and a local clock time (--decision-time)."""

from __future__ import annotations

from datetime import UTC, datetime, time


def instant(text: str) -> datetime:
    """An ISO 8601 time as an aware datetime, UTC unless it says otherwise ('2025-02-20T15:00Z')."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def clock(text: str) -> time:
    """A HH:MM clock time."""
    try:
        return datetime.strptime(text, "%H:%M").time()  # noqa: DTZ007 - a clock time, not an instant
    except ValueError:
        raise ValueError(f"{text!r} is not a HH:MM time") from None
