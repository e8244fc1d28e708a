"""The climate day: the one place where a city's weather "day" is computed.

Kalshi settles on the NWS Daily Climate Report, which covers midnight to
midnight local *standard* time all year. During daylight saving time that is
01:00 to 00:59 on the local clock, so converting with the city's IANA zone (or
"the calendar day in New York") is wrong for half the year. Everything here
uses the fixed standard-time offset, never DST rules.

Pure functions with no Django imports; times are aware UTC datetimes.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@functools.lru_cache(maxsize=64)
def standard_time_zone(offset_minutes: int) -> timezone:
    """A fixed-offset tzinfo for a standard-time offset such as -300 (EST).

    Cached because every timed reading of a forecast goes through here, and a
    handful of offsets cover every station; a ValueError is raised each time,
    since lru_cache does not keep exceptions.
    """
    if not -14 * 60 <= offset_minutes <= 14 * 60:
        raise ValueError(f"standard-time offset {offset_minutes} min is outside UTC-14..UTC+14")
    return timezone(timedelta(minutes=offset_minutes))


def climate_day_window(day: date, offset_minutes: int) -> tuple[datetime, datetime]:
    """Return the UTC instants [start, end) of ``day``'s climate day at a station.

    ``offset_minutes`` is the station's standard-time offset from UTC (New York
    -300, Denver -420). The window is always exactly 24 hours.
    """
    start = datetime.combine(day, time.min, tzinfo=standard_time_zone(offset_minutes)).astimezone(UTC)
    return start, start + timedelta(days=1)


def climate_date_at(instant: datetime, offset_minutes: int) -> date:
    """The climate day that contains ``instant`` (which must be timezone-aware)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("climate_date_at needs an aware datetime; got a naive one")
    return instant.astimezone(standard_time_zone(offset_minutes)).date()


def lead_days(target: date, available_at: datetime, offset_minutes: int) -> int:
    """Climate days from the one containing ``available_at`` to ``target``: 0 on the day itself.

    The lead of a forecast, counted in the station's climate days rather than
    UTC or local calendar days: a run received at 00:30 daylight time belongs
    to the previous climate day, so it counts one more day of lead.
    """
    return (target - climate_date_at(available_at, offset_minutes)).days


def zone_standard_offset_minutes(zone_name: str) -> int:
    """The standard-time (non-DST) UTC offset of an IANA zone, in minutes.

    Taken from mid-January and mid-July: whichever of the two has no DST in
    effect, so it works in both hemispheres and for zones without DST.
    """
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_name!r}") from None
    for month in (1, 7):
        probe = datetime(2025, month, 15, 12, tzinfo=zone)
        if not probe.dst():
            offset = probe.utcoffset()
            if offset is None:  # never for a ZoneInfo; keeps the type checker honest
                break
            return int(offset.total_seconds() // 60)
    raise ValueError(f"time zone {zone_name!r} observes DST all year; no standard offset")
