"""Kalshi ticker anatomy: series → event → market.

``KXHIGHNY-25FEB28-B44.5`` is a market of event ``KXHIGHNY-25FEB28``, whose
``25FEB28`` is the climate day it settles on. Legacy tickers (``HIGHNY-24AUG16``,
and one era's ``HIGHMIA--23MAY11``) follow the same pattern.

Pure functions with no Django imports.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_EVENT_DATE = re.compile(r"-+(\d{2})([A-Z]{3})(\d{2})$")
# The event part ends at its date token; the market suffix may itself hold a dash,
# as negative strikes do (HIGHCHI-22DEC23-B-0.5).
_MARKET = re.compile(r"^(.+?-+\d{2}[A-Z]{3}\d{2})-(.+)$")


class TickerError(ValueError):
    """A ticker that does not have the documented shape."""


def event_ticker_of(market_ticker: str) -> str:
    """'KXHIGHNY-25FEB28-B44.5' → 'KXHIGHNY-25FEB28'; 'HIGHCHI-22DEC23-B-0.5' → 'HIGHCHI-22DEC23'."""
    match = _MARKET.match(market_ticker)
    if match is None:
        raise TickerError(f"market ticker {market_ticker!r} has no <event>-<YYMONDD>-<market> shape")
    return match.group(1)


def event_date(event_ticker: str) -> date:
    """The climate day in an event ticker: 'KXHIGHNY-25FEB28' → 2025-02-28."""
    match = _EVENT_DATE.search(event_ticker)
    if match is None:
        raise TickerError(f"event ticker {event_ticker!r} does not end in a YYMONDD date")
    year, month, day = match.groups()
    if month not in _MONTHS:
        raise TickerError(f"event ticker {event_ticker!r} has an unknown month {month!r}")
    try:
        return date(2000 + int(year), _MONTHS[month], int(day))
    except ValueError:
        raise TickerError(f"event ticker {event_ticker!r} names an impossible date") from None
