"""Which settlement values make a temperature market resolve YES.

The NWS climate report gives whole °F, so a bracket is a closed range of
integers: ``between 44 and 45`` is {44, 45}; ``less than 80`` is every value up
to 79; ``greater than 87`` is 88 and up. Brackets come from ``strike_type``
and the strikes. Only markets whose payload lacks them (legacy 2021-24
contracts, and some downloads) fall back to the subtitle, and a subtitle that
does not parse is an error, never a guess.

Pure functions with no Django imports.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


class BracketError(ValueError):
    """A market whose winning values cannot be determined."""


@dataclass(frozen=True)
class Bracket:
    """The integer values, inclusive, for which the market resolves YES (None: unbounded)."""

    low: int | None
    high: int | None

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise BracketError("a bracket needs at least one bound")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise BracketError(f"empty bracket: {self.low} > {self.high}")

    def contains(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def continuous_edges(self) -> tuple[float, float]:
        """Edges for a continuous forecast of the high: [low - 0.5, high + 0.5).

        A forecast of 44.6 °F rounds to a reported 45, so it belongs to the
        bracket {44, 45}; the tails extend to infinity.
        """
        lower = -math.inf if self.low is None else self.low - 0.5
        upper = math.inf if self.high is None else self.high + 0.5
        return lower, upper

    def label(self) -> str:
        if self.low is None:
            return f"{self.high}° or below"
        if self.high is None:
            return f"{self.low}° or above"
        return f"{self.low}° to {self.high}°"


def ladder_centre(brackets: Sequence[Bracket]) -> float | None:
    """The middle of an event's ladder in °F: Kalshi centres the brackets on its expected high at listing.

    The midpoint of the span the bounded brackets cover (continuous edges), or
    of the gap between the two tails when there is no bounded bracket.
    """
    lows = [b.continuous_edges()[0] for b in brackets if b.low is not None]
    highs = [b.continuous_edges()[1] for b in brackets if b.high is not None]
    if not lows or not highs:
        return None
    return (min(lows) + max(highs)) / 2


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise BracketError(f"{what} {value} is not a whole degree")
    return int(value)


def from_strikes(strike_type: str, floor: Decimal | None, cap: Decimal | None) -> Bracket:
    """The bracket of a market from its ``strike_type`` and ``floor_strike``/``cap_strike``."""

    def need(value: Decimal | None, name: str) -> Decimal:
        if value is None:
            raise BracketError(f"strike_type {strike_type!r} needs {name}")
        return value

    if strike_type == "between":
        return Bracket(
            _whole(need(floor, "floor_strike"), "floor_strike"), _whole(need(cap, "cap_strike"), "cap_strike")
        )
    if strike_type == "less":
        return Bracket(None, math.ceil(need(cap, "cap_strike")) - 1)
    if strike_type == "less_or_equal":
        return Bracket(None, math.floor(need(cap, "cap_strike")))
    if strike_type == "greater":
        return Bracket(math.floor(need(floor, "floor_strike")) + 1, None)
    if strike_type == "greater_or_equal":
        return Bracket(math.ceil(need(floor, "floor_strike")), None)
    raise BracketError(f"strike_type {strike_type!r} is not a temperature bracket")


_DEG = r"\s*[°º]?"
_NUM = r"(-?\d+)"
_SUBTITLES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^{_NUM}{_DEG}\s*(?:to|-)\s*{_NUM}{_DEG}$"), "between"),
    (re.compile(rf"^{_NUM}{_DEG}\s+or\s+(?:above|higher|more)$", re.IGNORECASE), "at_least"),
    (re.compile(rf"^{_NUM}{_DEG}\s+or\s+(?:below|lower|less)$", re.IGNORECASE), "at_most"),
    (re.compile(rf"^>\s*{_NUM}{_DEG}$"), "above"),
    (re.compile(rf"^<\s*{_NUM}{_DEG}$"), "below"),
)


def from_subtitle(subtitle: str) -> Bracket:
    """Parse a legacy subtitle: '44° to 45°', '80-81°', '86° or above', '83° or below', '>81°', '<70°'."""
    text = subtitle.strip()
    for pattern, kind in _SUBTITLES:
        match = pattern.match(text)
        if match is None:
            continue
        first = int(match.group(1))
        if kind == "between":
            return Bracket(first, int(match.group(2)))
        if kind == "at_least":
            return Bracket(first, None)
        if kind == "at_most":
            return Bracket(None, first)
        if kind == "above":
            return Bracket(first + 1, None)
        return Bracket(None, first - 1)
    raise BracketError(f"cannot read a temperature bracket from subtitle {subtitle!r}")


_TICKER_STRIKE = re.compile(r"-([BT])(-?\d+(?:\.\d+)?)$")


def brackets_from_tickers(tickers: Sequence[str]) -> dict[str, Bracket]:
    """An event's brackets read from its market tickers, for payloads without strikes or subtitles.

    Kalshi's weather tickers end in ``-B<mid>`` for a two-degree bracket
    (B66.5 is {66, 67}: floor 66, cap 67) or ``-T<n>`` for a tail; a tail's
    side only shows beside the others: the tail at or below every bracket is
    ``less than n`` ({≤ n-1}), the one at or above is ``greater than n``
    ({≥ n+1}). Checked against every market of the shared history that has
    strikes too. Anything else is a BracketError, never a guess.
    """
    between: dict[str, Decimal] = {}
    tails: dict[str, Decimal] = {}
    for ticker in tickers:
        match = _TICKER_STRIKE.search(ticker)
        if match is None:
            raise BracketError(f"{ticker}: the ticker ends in no B<strike> or T<strike>")
        (between if match.group(1) == "B" else tails)[ticker] = Decimal(match.group(2))
    if len(tails) != 2:
        raise BracketError(f"an event needs two tails to read its brackets from tickers, got {sorted(tails)}")
    brackets = {ticker: _between_of(ticker, mid) for ticker, mid in between.items()}
    (low_ticker, low), (high_ticker, high) = sorted(tails.items(), key=lambda item: item[1])
    floors = [b.low for b in brackets.values() if b.low is not None]
    caps = [b.high for b in brackets.values() if b.high is not None]
    if low == high or (floors and low > min(floors)) or (caps and high < max(caps)):
        raise BracketError(f"tails {low_ticker} and {high_ticker} do not bound the brackets between them")
    brackets[low_ticker] = Bracket(None, math.ceil(low) - 1)
    brackets[high_ticker] = Bracket(math.floor(high) + 1, None)
    _check_contiguous(brackets)
    return {ticker: brackets[ticker] for ticker in tickers}


def _check_contiguous(brackets: dict[str, Bracket]) -> None:
    """A download that lists only some of an event's markets leaves a gap: say which values are missing."""
    rungs = sorted(brackets.items(), key=lambda item: item[1].continuous_edges())
    for (_, previous), (ticker, current) in itertools.pairwise(rungs):
        if previous.high is None or current.low is None or current.low != previous.high + 1:
            raise BracketError(f"{ticker}: no market covers the values between {previous.label()!r} and it")


def _between_of(ticker: str, mid: Decimal) -> Bracket:
    floor = mid - Decimal("0.5")
    return Bracket(_whole(floor, f"{ticker}: floor"), _whole(floor, f"{ticker}: floor") + 1)


def bracket_of(*, strike_type: str | None, floor: Decimal | None, cap: Decimal | None, subtitle: str | None) -> Bracket:
    """The market's bracket: from its strikes, or from its subtitle when it has none."""
    if strike_type:
        return from_strikes(strike_type, floor, cap)
    if subtitle:
        return from_subtitle(subtitle)
    raise BracketError("the market has neither strike_type nor a subtitle")
