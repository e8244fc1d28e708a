"""The NWS Daily Climate Report (CLI): the text product Kalshi's temperature markets settle on.

A CLI is issued by a forecast office for one climate station (CLINYC by OKX
for Central Park). It covers the climate day, midnight to midnight local
*standard* time, and comes in three kinds, which must never be confused:

- preliminary: issued during the day ("VALID TODAY AS OF 0400 PM LOCAL
  TIME"), a running maximum that the afternoon can still beat;
- final: issued after the day ended, usually after midnight, labelled
  YESTERDAY;
- corrected: "CCA" (CCB, ...) in the WMO header or "CORRECTED" in the text;
  it replaces what it corrects.

:func:`best_report` picks the one to believe: a final beats any preliminary
however late the preliminary arrives, then the latest issued, then a
correction. Values are whole °F; "MM" means missing and gives None.

The parser reads whitespace- and case-variants of the format and raises
:class:`ClimateReportError` naming the line it could not read, never guessing.
:func:`fetch_climate_reports` gets the text from api.weather.gov. Pure code
with no Django imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

import httpx

from weather.climate import climate_day_window
from weather.sources.base import (
    BadPayloadError,
    WrongLocationError,
    temperature_problem,
)
from weather.sources.http import DEFAULT_TIMEOUT_S, get_json
from weather.sources.nws import NWS_API, nws_client
from weather.sources.payload import (
    as_list,
    as_object,
    as_text,
    require,
)

# Header time zones: (UTC offset, standard-time offset) in minutes. The standard
# offset decides when the climate day ends, so an EDT stamp still uses EST's day.
TIME_ZONES: dict[str, tuple[int, int]] = {
    "UTC": (0, 0),
    "GMT": (0, 0),
    "AST": (-240, -240),
    "EST": (-300, -300),
    "EDT": (-240, -300),
    "CST": (-360, -360),
    "CDT": (-300, -360),
    "MST": (-420, -420),
    "MDT": (-360, -420),
    "PST": (-480, -480),
    "PDT": (-420, -480),
    "AKST": (-540, -540),
    "AKDT": (-480, -540),
    "HST": (-600, -600),
    "SST": (-660, -660),
    "CHST": (600, 600),
}
_MONTHS = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)
_WMO = re.compile(r"^([A-Z]{4}\d{2})\s+([A-Z]{4})\s+(\d{6})(?:\s+([A-Z]{3}))?$")
_AWIPS = re.compile(r"^CLI([A-Z0-9]{3})$")
_ISSUED = re.compile(r"^(\d{3,4})\s+(AM|PM)\s+([A-Z]{3,4})\s+[A-Z]{3}\s+([A-Z]{3})\s+(\d{1,2})\s+(\d{4})$")
_HEADLINE = re.compile(
    r"\.\.\.\s*THE\s+(?P<name>.+?)\s+CLIMATE\s+SUMMARY\s+FOR\s+(?P<month>[A-Z]+)\.?\s+(?P<day>\d{1,2}),?\s+"
    r"(?P<year>\d{4})(?P<correction>\s+CORRECT(?:ION|ED))?"
)
_VALID_AS_OF = re.compile(r"VALID\s+(?:TODAY\s+)?AS\s+OF\s+(\d{1,2}:?\d{2})\s*(AM|PM)")
_TEMPERATURE_BLOCK = re.compile(r"^TEMPERATURE\s*\(F\)$")
_BLOCK_END = re.compile(
    r"^(PRECIPITATION|SNOWFALL|DEGREE DAYS|WIND|SKY COVER|WEATHER CONDITIONS|RELATIVE HUMIDITY|\.{3,})"
)
_VALUE = re.compile(r"^(-?\d{1,4})(R?)$")
_MISSING = frozenset({"M", "MM"})
_CLOCK = re.compile(r"^(\d{1,2}):?(\d{2})$")
_JOINED_CLOCK = re.compile(r"^(\d{1,2}:?\d{2})(AM|PM)$")
_ALL_COLUMNS = ("RECORD", "YEAR", "NORMAL", "DEPARTURE", "LAST")


class ClimateReportError(BadPayloadError):
    """A CLI product that cannot be read; the message names the line."""


@dataclass(frozen=True)
class TemperatureReading:
    """One MAXIMUM or MINIMUM line of the TEMPERATURE (F) block. None where the report says MM."""

    observed: int | None
    time_lst: time | None  # local standard time of the observation
    record: int | None = None
    record_year: int | None = None
    normal: int | None = None
    departure: int | None = None
    last_year: int | None = None
    record_set: bool = False  # the "R" flag: a record was set or tied


@dataclass(frozen=True)
class ClimateReport:
    cli_code: str  # "NYC", from the AWIPS id CLINYC
    office: str  # "KOKX", the issuing office of the WMO header
    station_name: str  # "CENTRAL PARK NY"
    climate_date: date
    issued_at: datetime  # aware UTC, from the header time line
    high_f: int | None
    low_f: int | None
    is_preliminary: bool
    is_correction: bool
    valid_as_of: time | None  # the "VALID ... AS OF" local time of a preliminary report
    maximum: TemperatureReading
    minimum: TemperatureReading


def parse_climate_report(text: str) -> ClimateReport:
    """Parse one CLI product's text. Raises ClimateReportError naming the line it could not read."""
    lines = [line.strip() for line in text.replace("\r", "").expandtabs().upper().split("\n")]
    wmo_at, wmo = _find(lines, _WMO, "no WMO header line like 'CDUS41 KOKX 010536'")
    cli_code = _awips_code(lines, wmo_at)
    product = f"CLI{cli_code}"
    headline_at = _headline_line(lines, product)
    header = lines[wmo_at:headline_at]
    issued_at, standard_offset = _issued_at(header, wmo_at, product)
    # A long station name can push the headline onto two lines; the line before may hold its start.
    joined = " ".join(lines[max(0, headline_at - 1) : headline_at + 2])
    headline = _HEADLINE.search(joined)
    if headline is None:
        raise _error(product, "unreadable headline", headline_at, lines[headline_at])
    climate_date = _headline_date(headline, product, headline_at, lines[headline_at])
    valid = _VALID_AS_OF.search(" ".join(lines[headline_at : headline_at + 4]))
    valid_as_of = _clock(valid.group(1), valid.group(2), product, headline_at, lines[headline_at]) if valid else None
    maximum, minimum = _temperatures(lines, product)
    day_start, day_end = climate_day_window(climate_date, standard_offset)
    if issued_at < day_start:
        raise _error(product, "the report was issued before its climate day began", headline_at, lines[headline_at])
    return ClimateReport(
        cli_code=cli_code,
        office=wmo.group(2),
        station_name=re.sub(r"\s+", " ", headline.group("name")),
        climate_date=climate_date,
        issued_at=issued_at,
        high_f=maximum.observed,
        low_f=minimum.observed,
        # Issued before its climate day ended means the day was not over, whatever the label says.
        is_preliminary=valid_as_of is not None or issued_at < day_end,
        is_correction=_is_correction(wmo, header, headline),
        valid_as_of=valid_as_of,
        maximum=maximum,
        minimum=minimum,
    )


def best_report(reports: Iterable[ClimateReport]) -> ClimateReport | None:
    """The report to believe for one station's climate day: final over preliminary, then latest, then corrected."""
    chosen = list(reports)
    if len({(r.cli_code, r.climate_date) for r in chosen}) > 1:
        raise ValueError("best_report compares reports of one station and one climate day")
    return max(chosen, key=lambda r: (not r.is_preliminary, r.issued_at, r.is_correction), default=None)


def fetch_climate_reports(
    cli_code: str,
    *,
    app_name: str,
    contact: str,
    limit: int = 3,
    base_url: str = NWS_API,
    transport: httpx.BaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> tuple[ClimateReport, ...]:
    """The latest ``limit`` CLI products for ``cli_code`` (e.g. "NYC"), newest first, parsed.

    GET /products/types/CLI/locations/{code} lists them; /products/{id} has the text.
    """
    if not re.fullmatch(r"[A-Z0-9]{3}", cli_code):
        raise ValueError(f"a CLI code is three capital letters like NYC, got {cli_code!r}")
    base = base_url.rstrip("/")
    where = f"nws CLI{cli_code}"
    with nws_client(app_name=app_name, contact=contact, transport=transport, timeout=timeout) as client:
        listing = as_object(get_json(client, f"{base}/products/types/CLI/locations/{cli_code}", where=where), where)
        graph = as_list(require(listing, "@graph", where), f"{where}.@graph")
        ids = [as_text(require(as_object(item, where), "id", where), f"{where}.id") for item in graph[:limit]]
        return tuple(_fetch_one(client, base, product_id, cli_code, where) for product_id in ids)


def _fetch_one(client: httpx.Client, base: str, product_id: str, cli_code: str, where: str) -> ClimateReport:
    where = f"{where} product {product_id}"
    product = as_object(get_json(client, f"{base}/products/{product_id}", where=where), where)
    text = as_text(require(product, "productText", where), f"{where}.productText")
    try:
        report = parse_climate_report(text)
    except ClimateReportError as exc:
        raise ClimateReportError(f"{where}: {exc}") from None
    if report.cli_code != cli_code:
        raise WrongLocationError(f"{where}: the product is CLI{report.cli_code}, asked for CLI{cli_code}")
    return report


# --- Header ------------------------------------------------------------------------------


def _find(lines: Sequence[str], pattern: re.Pattern[str], missing: str) -> tuple[int, re.Match[str]]:
    for number, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            return number, match
    raise ClimateReportError(f"CLI: {missing}")


def _awips_code(lines: Sequence[str], wmo_at: int) -> str:
    following = [(n, line) for n, line in enumerate(lines) if n > wmo_at and line]
    if not following:
        raise ClimateReportError(f"CLI: nothing after the WMO header at line {wmo_at + 1}")
    number, line = following[0]
    match = _AWIPS.match(line)
    if match is None:
        raise _error("CLI", "expected the AWIPS id (CLIxxx) after the WMO header", number, line)
    return match.group(1)


def _headline_line(lines: Sequence[str], product: str) -> int:
    for number, line in enumerate(lines):
        if "CLIMATE SUMMARY" in line:
            return number
    raise ClimateReportError(f"{product}: no '...THE <STATION> CLIMATE SUMMARY FOR <MONTH> <DAY> <YEAR>...' line")


def _issued_at(header: Sequence[str], first: int, product: str) -> tuple[datetime, int]:
    """The header time line ("1236 AM EST SAT MAR 1 2025") as UTC, and its zone's standard offset."""
    for number, line in enumerate(header, start=first):
        match = _ISSUED.match(line)
        if match is None:
            continue
        hhmm, ampm, zone, month, day, year = match.groups()
        if zone not in TIME_ZONES:
            raise _error(product, f"unknown time zone {zone!r} in the issue time", number, line)
        utc_offset, standard_offset = TIME_ZONES[zone]
        clock = _clock(hhmm, ampm, product, number, line)
        month_no = _month(month, product, number, line)
        try:
            local = datetime.combine(date(int(year), month_no, int(day)), clock)
        except ValueError:
            raise _error(product, "impossible issue date", number, line) from None
        return local.replace(tzinfo=timezone(timedelta(minutes=utc_offset))).astimezone(UTC), standard_offset
    raise ClimateReportError(f"{product}: no issue time line like '1236 AM EST SAT MAR 1 2025' in the header")


def _headline_date(match: re.Match[str], product: str, number: int, line: str) -> date:
    month = _month(match.group("month"), product, number, line)
    try:
        return date(int(match.group("year")), month, int(match.group("day")))
    except ValueError:
        raise _error(product, "impossible date in the headline", number, line) from None


def _is_correction(wmo: re.Match[str], header: Sequence[str], headline: re.Match[str]) -> bool:
    bbb = wmo.group(4) or ""
    return bbb.startswith("CC") or bool(headline.group("correction")) or any("CORRECT" in line for line in header)


def _month(name: str, product: str, number: int, line: str) -> int:
    for index, month in enumerate(_MONTHS, start=1):
        if name == month or (len(name) == 3 and month.startswith(name)):
            return index
    raise _error(product, f"unknown month {name!r}", number, line)


def _clock(hhmm: str, ampm: str, product: str, number: int, line: str) -> time:
    """ "1236" + "AM" -> 00:36; "205 PM" -> 14:05; "11:20 AM" -> 11:20."""
    digits = hhmm.replace(":", "")
    hour, minute = int(digits[:-2] or "0"), int(digits[-2:])
    if not (1 <= hour <= 12 and 0 <= minute <= 59):
        raise _error(product, f"impossible clock time {hhmm} {ampm}", number, line)
    return time(hour % 12 + (12 if ampm == "PM" else 0), minute)


# --- The TEMPERATURE (F) block -------------------------------------------------------------


def _temperatures(lines: Sequence[str], product: str) -> tuple[TemperatureReading, TemperatureReading]:
    start = next((n for n, line in enumerate(lines) if _TEMPERATURE_BLOCK.match(line)), None)
    if start is None:
        raise ClimateReportError(f"{product}: no 'TEMPERATURE (F)' block")
    columns = _columns(lines, start)
    found: dict[str, tuple[int, str]] = {}
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if _BLOCK_END.match(line):
            break
        word = line.split(" ", 1)[0]
        if word in ("MAXIMUM", "MINIMUM") and word not in found:
            found[word] = (number, line)
    for word in ("MAXIMUM", "MINIMUM"):
        if word not in found:
            raise _error(product, f"no {word} line in the TEMPERATURE (F) block", start, lines[start])
    return _reading(*found["MAXIMUM"], columns, product), _reading(*found["MINIMUM"], columns, product)


def _columns(lines: Sequence[str], before: int) -> tuple[str, ...]:
    """The value columns after OBSERVED/TIME, from the 'WEATHER ITEM ...' header (all five if absent)."""
    for line in lines[:before]:
        if line.startswith("WEATHER ITEM"):
            words = line.split()
            return tuple(w for w in words if w in _ALL_COLUMNS) + (("TIME",) if "TIME" in words else ())
    return (*_ALL_COLUMNS, "TIME")


def _reading(number: int, line: str, columns: tuple[str, ...], product: str) -> TemperatureReading:
    tokens = line.split()[1:]
    if not tokens:
        raise _error(product, "no observed value", number, line)
    observed, record_set = _value(tokens[0], product, number, line)
    problem = temperature_problem(None if observed is None else float(observed))
    if problem:
        raise _error(product, f"observed value {problem}", number, line)
    rest = tokens[1:]
    clock: time | None = None
    if "TIME" in columns and rest:
        if rest[0] in _MISSING:
            rest = rest[1:]
        elif len(rest) > 1 and _CLOCK.match(rest[0]) and rest[1] in ("AM", "PM"):
            clock, rest = _clock(rest[0], rest[1], product, number, line), rest[2:]
        elif joined := _JOINED_CLOCK.match(rest[0]):  # "205PM"
            clock, rest = _clock(joined.group(1), joined.group(2), product, number, line), rest[1:]
        else:
            raise _error(product, "unreadable observation time", number, line)
    values = [_value(token, product, number, line)[0] for token in rest]
    return TemperatureReading(observed, clock, record_set=record_set, **_assign(values, columns))


def _assign(values: list[int | None], columns: tuple[str, ...]) -> dict[str, int | None]:
    """Map the numbers after the time to columns.

    Blank cells (a record year nobody kept) leave no token, so positions cannot
    be trusted. NORMAL, DEPARTURE and LAST YEAR are always filled when present
    (with MM if need be), so they are taken from the right; RECORD and its
    YEAR from the left, YEAR only when it looks like a year.
    """
    names = {
        "RECORD": "record",
        "YEAR": "record_year",
        "NORMAL": "normal",
        "DEPARTURE": "departure",
        "LAST": "last_year",
    }
    trailing = [c for c in ("NORMAL", "DEPARTURE", "LAST") if c in columns]
    out: dict[str, int | None] = {}
    take = min(len(trailing), len(values))
    for column, value in zip(trailing[len(trailing) - take :], values[len(values) - take :], strict=True):
        out[names[column]] = value
    leading = values[: len(values) - take]
    if "RECORD" in columns and leading:
        out["record"] = leading[0]
        year = leading[1] if len(leading) > 1 else None
        if "YEAR" in columns and year is not None and 1800 <= year <= 2200:
            out["record_year"] = year
    return out


def _value(token: str, product: str, number: int, line: str) -> tuple[int | None, bool]:
    """An integer cell, "MM" (None), or a value flagged "R" (record set or tied)."""
    if token in _MISSING:
        return None, False
    match = _VALUE.match(token)
    if match is None:
        raise _error(product, f"unreadable value {token!r}", number, line)
    return int(match.group(1)), bool(match.group(2))


def _error(product: str, reason: str, number: int, line: str) -> ClimateReportError:
    return ClimateReportError(f"{product}: {reason} at line {number + 1}: {line!r}")
