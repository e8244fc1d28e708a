"""One cell of a history file into a value, or a :class:`RowProblem` that says what is wrong.

Nothing here guesses: a cell that is not exactly what its column documents is an
error, and so is a temperature no thermometer could read (the bounds are
weather.sources.base's, shared with the live sources). :func:`parsed_rows` reads
a file whose rows stand alone, turning each row's problem into a MalformedLine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from kalshiweb.progress import Progress
from markets.history.readers import MalformedLine, RowProblem, csv_rows
from weather.sources.base import temperature_problem

T = TypeVar("T")

_WHOLE = re.compile(r"-?\d{1,3}")
# Plain decimals only: "nan", "inf" and exponents are not temperatures a file should hold.
_DECIMAL = re.compile(r"-?\d{1,3}(\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNPADDED_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:00")
_UTC_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def whole_f(text: str, column: str) -> float:
    """A whole-degree °F cell, e.g. GHCN's ``value_f``."""
    if not _WHOLE.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a whole number of °F")
    return plausible(float(text), column)


def optional_whole_f(text: str, column: str, *, missing: str) -> float | None:
    """Like whole_f, with ``missing`` (e.g. 'NA') standing for no value."""
    return None if text == missing else whole_f(text, column)


def decimal_f(text: str, column: str) -> float:
    """A decimal °F cell such as ``70.2``."""
    if not _DECIMAL.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a °F value")
    return plausible(float(text), column)


def plausible(value: float, column: str) -> float:
    problem = temperature_problem(value)
    if problem:
        raise RowProblem(f"{column} {problem}")
    return value


def low_not_above_high(low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise RowProblem(f"the low {low:g} °F is above the high {high:g} °F")


def iso_date(text: str, column: str) -> date:
    """A zero-padded ``YYYY-MM-DD`` date."""
    if not _ISO_DATE.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a YYYY-MM-DD date")
    return _date(text, column, lambda: date.fromisoformat(text))


def unpadded_date(text: str, column: str) -> date:
    """FiveThirtyEight's ``YYYY-M-D`` (month and day not zero-padded)."""
    match = _UNPADDED_DATE.fullmatch(text)
    if not match:
        raise RowProblem(f"{column} {text!r} is not a YYYY-M-D date")
    year, month, day = (int(part) for part in match.groups())
    return _date(text, column, lambda: date(year, month, day))


def naive_seconds(text: str, column: str) -> datetime:
    """A wall-clock ``YYYY-MM-DD HH:MM:SS`` without a zone; the caller says which clock it is."""
    if not _SECONDS.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a YYYY-MM-DD HH:MM:SS time")
    return _datetime(text, column)


def naive_hour(text: str, column: str) -> datetime:
    """A wall-clock ``YYYY-MM-DDTHH:00`` on the hour, without a zone."""
    if not _HOUR.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a YYYY-MM-DDTHH:00 hour")
    return _datetime(text, column)


def utc_seconds(text: str, column: str) -> datetime:
    """An ISO-8601 UTC time to the second, ``YYYY-MM-DDTHH:MM:SSZ``, as an aware datetime."""
    if not _UTC_SECONDS.fullmatch(text):
        raise RowProblem(f"{column} {text!r} is not a YYYY-MM-DDTHH:MM:SSZ time")
    return _datetime(text[:-1], column).replace(tzinfo=UTC)


def integer(text: str, column: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise RowProblem(f"{column} {text!r} is not an integer")
    return int(text)


def _date(text: str, column: str, build: Callable[[], date]) -> date:
    try:
        return build()
    except ValueError:
        raise RowProblem(f"{column} {text!r} is not a calendar date") from None


def _datetime(text: str, column: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{column} {text!r} is not a valid time") from None


def parsed_rows(
    path: Path, *, expected: tuple[str, ...], parse: Callable[[dict[str, str]], T], progress: Progress
) -> Iterator[tuple[int, T]]:
    """(line, ``parse(row)``) for each row of a CSV file; a row's RowProblem is a MalformedLine naming file and line."""
    for number, cells in csv_rows(path, expected=expected, progress=progress):
        try:
            value = parse(cells)
        except RowProblem as exc:
            raise MalformedLine(path, number, str(exc)) from None
        yield number, value
