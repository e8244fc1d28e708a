"""Live order books kept from Kalshi's ``orderbook_delta`` WebSocket channel.

Kalshi books hold bids only: YES bids and NO bids. A NO bid at p is a YES ask
at 1 - p, so a market's best YES ask is 1 - its best NO bid (and its best NO
ask is 1 - its best YES bid). The channel sends an ``orderbook_snapshot`` of
both sides, then ``orderbook_delta`` messages, each a signed change of the
size at one price on one side. NO prices are read in NO-leg pricing, the
channel's default (a subscription must not set ``use_yes_price``).

Every message carries its subscription's ``sid`` and a ``seq`` that grows by
exactly one per message of that subscription, whatever market it is about.
:class:`Books` checks it: a repeated or older ``seq`` is ignored; a jump
means messages were lost, so every book of that subscription is stale (its
levels are dropped, with a reason) until a new snapshot resynchronises it. A
delta that would leave a negative size marks its book stale too. A stale
book quotes nothing: its accessors return None and ``tradeable`` is False.

Levels are sorted here, never taken in payload order. Money is parsed once
from the fixed-point strings into Decimal, strictly: a malformed message is a
:class:`FeedError` naming the market and the field.

Pure: no Django. ``prediction.book`` builds its features on :class:`Quote`.
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple

import orjson

from markets.units import UnitError

Side = Literal["yes", "no"]
Level = tuple[Decimal, Decimal]  # (price in dollars, size in contracts)

ONE = Decimal(1)
_ZERO = Decimal(0)
# A price strictly between 0 and 1 dollar; sizes and deltas in contracts. Up to 6
# decimals, as FixedPointDollars allows; never exponents, NaN, spaces or underscores,
# which Decimal() would otherwise accept.
_PRICE = re.compile(r"0\.\d{1,6}")
_SIZE = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
_DELTA = re.compile(r"-?\d{1,12}(?:\.\d{1,6})?")
# Parsed strings, kept so a hot feed's repeated prices and sizes skip the regex and
# Decimal(); bounded so a hostile feed cannot grow them without limit.
_CACHE_LIMIT = 50_000
_prices: dict[str, Decimal] = {}
_sizes: dict[str, Decimal] = {}
_deltas: dict[str, Decimal] = {}


class FeedError(UnitError):
    """A WebSocket message that is not what Kalshi documents; the message names the market and field."""


@dataclass(frozen=True)
class Quote:
    """The best YES bid and ask of one market, with their sizes."""

    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    @property
    def weighted_mid(self) -> float:
        """The microprice: it leans toward the thinner side, (B·a + A·b) / (a + b)."""
        total = self.bid_size + self.ask_size
        if total <= 0:
            return float((self.bid + self.ask) / 2)
        return float((self.bid * self.ask_size + self.ask * self.bid_size) / total)

    @property
    def imbalance(self) -> float:
        """Bid size minus ask size over both, in [-1, 1]: buying pressure."""
        total = self.bid_size + self.ask_size
        return 0.0 if total <= 0 else float((self.bid_size - self.ask_size) / total)


def best_quote(yes_bids: Sequence[Level], no_bids: Sequence[Level]) -> Quote | None:
    """The best YES bid and the YES ask implied by the best NO bid; None unless both sides quote."""
    if not yes_bids or not no_bids:
        return None
    bid, bid_size = max(yes_bids, key=lambda level: level[0])
    no_bid, ask_size = max(no_bids, key=lambda level: level[0])
    return Quote(bid, bid_size, ONE - no_bid, ask_size)


class Snapshot(NamedTuple):
    """An ``orderbook_snapshot``: both sides of one market, replacing what was there."""

    sid: int
    seq: int
    ticker: str
    yes: tuple[Level, ...]
    no: tuple[Level, ...]


class Delta(NamedTuple):
    """An ``orderbook_delta``: a signed change of the size at one price of one side."""

    sid: int
    seq: int
    ticker: str
    side: Side
    price: Decimal
    delta: Decimal


Message = Snapshot | Delta


class Outcome(enum.Enum):
    """What :meth:`Books.apply` did with a message."""

    APPLIED = "applied"  # a delta changed its book
    RESYNCED = "resynced"  # a snapshot replaced its book, which is now fresh
    DUPLICATE = "duplicate"  # the seq just seen again: ignored
    LATE = "late"  # an older seq, arriving after newer ones: ignored
    GAP = "gap"  # seq jumped: every book of the subscription is stale; not applied
    STALE = "stale"  # in sequence, but its book awaits a snapshot: not applied
    INCONSISTENT = "inconsistent"  # it would leave a negative size: its book is now stale
    UNKNOWN_MARKET = "unknown market"  # no snapshot yet for this market and subscription
    NOT_BOOK = "not a book message"  # another channel's message or a command response


# Parsing ---------------------------------------------------------------------------------------


def parse_message(raw: bytes | str) -> Message | None:
    """A WebSocket frame as a typed book message; None for any other message type."""
    data = _load(raw)
    kind = data.get("type")
    if kind == "orderbook_delta":
        return Delta(*_delta(data))
    if kind == "orderbook_snapshot":
        return _snapshot(data)
    return None


def _load(raw: bytes | str) -> dict[str, object]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"not JSON: {exc}") from None
    if type(data) is not dict:
        raise FeedError(f"expected a JSON object, got {type(data).__name__}")
    return data


def _envelope(data: Mapping[str, object], where: str) -> tuple[int, int, Mapping[str, object], str]:
    sid = data.get("sid")
    seq = data.get("seq")
    msg = data.get("msg")
    if type(msg) is not dict:
        raise FeedError(f"{where}.msg: expected an object, got {msg!r}")
    ticker = msg.get("market_ticker")
    if type(ticker) is not str or not ticker:
        raise FeedError(f"{where}.msg.market_ticker: expected a ticker, got {ticker!r}")
    if type(sid) is not int or sid < 1:
        raise FeedError(f"{where} for {ticker}: sid: expected a positive integer, got {sid!r}")
    if type(seq) is not int or seq < 1:
        raise FeedError(f"{where} for {ticker}: seq: expected a positive integer, got {seq!r}")
    return sid, seq, msg, ticker


DeltaFields = tuple[int, int, str, Side, Decimal, Decimal]


def _delta(data: Mapping[str, object]) -> DeltaFields:
    """A delta's fields, in :class:`Delta`'s order (a plain tuple: the hot path builds no object)."""
    sid, seq, msg, ticker = _envelope(data, "orderbook_delta")
    side = msg.get("side")
    if side != "yes" and side != "no":
        raise FeedError(f"orderbook_delta for {ticker}: side: expected 'yes' or 'no', got {side!r}")
    raw_price = msg.get("price_dollars")
    price = _prices.get(raw_price) if type(raw_price) is str else None
    if price is None:
        price = _price(raw_price, ticker, "orderbook_delta", "price_dollars")
    raw_delta = msg.get("delta_fp")
    delta = _deltas.get(raw_delta) if type(raw_delta) is str else None
    if delta is None:
        what = "a signed count like '-54.00'"
        delta = _checked(raw_delta, _DELTA, _deltas, ticker, "orderbook_delta", "delta_fp", what)
    return sid, seq, ticker, side, price, delta


def _snapshot(data: Mapping[str, object]) -> Snapshot:
    sid, seq, msg, ticker = _envelope(data, "orderbook_snapshot")
    return Snapshot(sid, seq, ticker, _levels(msg, "yes_dollars_fp", ticker), _levels(msg, "no_dollars_fp", ticker))


def _levels(msg: Mapping[str, object], field: str, ticker: str) -> tuple[Level, ...]:
    """One side's [[price, size], ...] (absent when the side is empty), best first; zero sizes dropped."""
    raw = msg.get(field)
    if raw is None:
        return ()
    where = "orderbook_snapshot"
    if type(raw) is not list:
        raise FeedError(f"{where} for {ticker}: {field}: expected a list of [price, size], got {raw!r}")
    levels: dict[Decimal, Decimal] = {}
    for pair in raw:
        if type(pair) is not list or len(pair) != 2:
            raise FeedError(f"{where} for {ticker}: {field}: expected [price, size], got {pair!r}")
        price = _price(pair[0], ticker, where, field)
        size = _sizes.get(pair[1]) if type(pair[1]) is str else None
        if size is None:
            size = _checked(pair[1], _SIZE, _sizes, ticker, where, field, "a contract count like '13.00'")
        if price in levels:
            raise FeedError(f"{where} for {ticker}: {field}: price {pair[0]} appears twice")
        if size:
            levels[price] = size
    return tuple(sorted(levels.items(), reverse=True))


def _price(value: object, ticker: str, where: str, field: str) -> Decimal:
    price = _prices.get(value) if type(value) is str else None
    if price is None:
        if type(value) is str and _PRICE.fullmatch(value) and not Decimal(value):
            raise FeedError(f"{where} for {ticker}: {field}: expected a price above 0, got {value!r}")
        price = _checked(value, _PRICE, _prices, ticker, where, field, "a dollar price like '0.4200', in (0, 1)")
    return price


def _checked(
    value: object, pattern: re.Pattern[str], cache: dict[str, Decimal], ticker: str, where: str, field: str, what: str
) -> Decimal:
    if type(value) is not str or not pattern.fullmatch(value):
        raise FeedError(f"{where} for {ticker}: {field}: expected {what}, got {value!r}")
    number = Decimal(value)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[value] = number
    return number


# One market's book ------------------------------------------------------------------------------


class _Bids:
    """One side's bids: size by price, and the prices sorted ascending (the best is last)."""

    __slots__ = ("prices", "sizes")

    def __init__(self) -> None:
        self.sizes: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []

    def replace(self, levels: Iterable[Level]) -> None:
        self.sizes = dict(levels)
        self.prices = sorted(self.sizes)

    def clear(self) -> None:
        self.sizes = {}
        self.prices = []

    def change(self, price: Decimal, delta: Decimal) -> bool:
        """Add ``delta`` at ``price``; False (and no change) if the size would go negative."""
        sizes = self.sizes
        old = sizes.get(price)
        if old is None:
            if delta > 0:
                sizes[price] = delta
                insort(self.prices, price)
                return True
            return not delta
        new = old + delta
        if new > 0:
            sizes[price] = new
            return True
        if new < 0:
            return False
        del sizes[price]
        prices = self.prices
        if prices[-1] == price:
            prices.pop()
        else:
            del prices[bisect_left(prices, price)]
        return True

    def best(self) -> Level | None:
        if not self.prices:
            return None
        price = self.prices[-1]
        return price, self.sizes[price]

    def levels(self) -> Iterator[Level]:
        sizes = self.sizes
        return ((price, sizes[price]) for price in reversed(self.prices))


class LiveBook:
    """One market's book as one subscription streams it; stale until a snapshot arrives."""

    __slots__ = ("_no", "_yes", "seq", "sid", "stale_reason", "ticker")

    def __init__(self, ticker: str, sid: int) -> None:
        self.ticker = ticker
        self.sid = sid
        self.seq = 0  # the seq of the last message applied to this book
        self.stale_reason: str | None = "no snapshot yet"
        self._yes = _Bids()
        self._no = _Bids()

    def __repr__(self) -> str:
        state = f"stale: {self.stale_reason}" if self.stale_reason else f"seq {self.seq}"
        return f"<LiveBook {self.ticker} sid {self.sid} {state}>"

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    @property
    def tradeable(self) -> bool:
        """In sync, with both sides quoted."""
        return self.stale_reason is None and bool(self._yes.prices) and bool(self._no.prices)

    def resync(self, snapshot: Snapshot) -> None:
        self._yes.replace(snapshot.yes)
        self._no.replace(snapshot.no)
        self.seq = snapshot.seq
        self.stale_reason = None

    def mark_stale(self, reason: str) -> None:
        """Drop every level: nothing here can be trusted until the next snapshot."""
        self.stale_reason = reason
        self._yes.clear()
        self._no.clear()

    def change(self, side: Side, price: Decimal, delta: Decimal, seq: int) -> bool:
        """Apply one delta; False (and the book marked stale) if a size would go negative."""
        if (self._yes if side == "yes" else self._no).change(price, delta):
            self.seq = seq
            return True
        self.mark_stale(f"seq {seq}: {side} {price} {delta:+} would leave a negative size")
        return False

    # Reading ---------------------------------------------------------------------------------

    def levels(self, side: Side) -> tuple[Level, ...]:
        """One side's bids, best first (none while stale)."""
        return tuple((self._yes if side == "yes" else self._no).levels())

    def best_bid(self, side: Side) -> Level | None:
        """The best bid on ``side`` with its size; None while stale or if that side is empty."""
        if self.stale_reason is not None:
            return None
        return (self._yes if side == "yes" else self._no).best()

    def best_ask(self, side: Side) -> Level | None:
        """The best ask on ``side``: 1 - the best bid of the other side, with its size."""
        other = self.best_bid("no" if side == "yes" else "yes")
        return None if other is None else (ONE - other[0], other[1])

    def quote(self) -> Quote | None:
        """The best YES bid and ask with sizes; None while stale or unless both sides quote."""
        if self.stale_reason is not None:
            return None
        yes, no = self._yes.prices, self._no.prices
        if not yes or not no:
            return None
        bid, no_bid = yes[-1], no[-1]
        return Quote(bid, self._yes.sizes[bid], ONE - no_bid, self._no.sizes[no_bid])

    def spread(self) -> Decimal | None:
        quote = self.quote()
        return None if quote is None else quote.spread

    def weighted_mid(self) -> float | None:
        quote = self.quote()
        return None if quote is None else quote.weighted_mid

    def imbalance(self) -> float | None:
        quote = self.quote()
        return None if quote is None else quote.imbalance

    def depth(self, side: Side, *, levels: int | None = None, within: Decimal | None = None) -> Decimal | None:
        """Total bid size on ``side`` over its best ``levels`` levels and/or priced within ``within`` of its best.

        The YES ask side's depth is the NO bids' depth. None while stale.
        """
        if self.stale_reason is not None:
            return None
        bids = self._yes if side == "yes" else self._no
        if not bids.prices:
            return _ZERO
        prices = bids.prices
        start = 0 if levels is None else max(len(prices) - levels, 0)
        if within is not None:
            start = max(start, bisect_left(prices, prices[-1] - within))
        sizes = bids.sizes
        return sum((sizes[price] for price in prices[start:]), _ZERO)


# Every book of a connection --------------------------------------------------------------------


class Books:
    """The books of one WebSocket connection, by market, checking each subscription's ``seq``.

    On reconnect, Kalshi may reuse sids and restart their seqs: start a new
    :class:`Books` (or :meth:`clear` this one) and resnapshot.
    """

    def __init__(self) -> None:
        self._books: dict[str, LiveBook] = {}
        self._last_seq: dict[int, int] = {}
        self._by_sid: dict[int, list[LiveBook]] = {}

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Iterator[LiveBook]:
        return iter(self._books.values())

    def get(self, ticker: str) -> LiveBook | None:
        return self._books.get(ticker)

    def last_seq(self, sid: int) -> int | None:
        """The highest seq seen on ``sid``."""
        return self._last_seq.get(sid)

    def stale_tickers(self) -> list[str]:
        """The markets awaiting a snapshot: ask for one (``update_subscription`` ``get_snapshot``)."""
        return [book.ticker for book in self._books.values() if book.stale_reason is not None]

    def clear(self) -> None:
        self._books.clear()
        self._last_seq.clear()
        self._by_sid.clear()

    def apply_raw(self, raw: bytes | str) -> Outcome:
        """Parse one WebSocket frame and apply it if it is about a book."""
        data = _load(raw)
        kind = data.get("type")
        if kind == "orderbook_delta":
            return self._change(*_delta(data))
        if kind == "orderbook_snapshot":
            return self._resync(_snapshot(data))
        return Outcome.NOT_BOOK

    def apply(self, message: Message) -> Outcome:
        if isinstance(message, Snapshot):
            return self._resync(message)
        return self._change(*message)

    def _resync(self, snapshot: Snapshot) -> Outcome:
        sid, seq = snapshot.sid, snapshot.seq
        last = self._last_seq.get(sid)
        if last is not None and seq != last + 1:
            skipped = self._out_of_sequence(sid, seq, last)
            if skipped is not Outcome.GAP:
                return skipped
        self._last_seq[sid] = seq
        book = self._books.get(snapshot.ticker)
        if book is None or book.sid != sid:
            book = self._adopt(snapshot.ticker, sid, book)
        book.resync(snapshot)
        return Outcome.RESYNCED

    def _change(self, sid: int, seq: int, ticker: str, side: Side, price: Decimal, delta: Decimal) -> Outcome:
        last = self._last_seq.get(sid)
        if last is not None and seq != last + 1:
            return self._out_of_sequence(sid, seq, last)
        self._last_seq[sid] = seq
        book = self._books.get(ticker)
        if book is None or book.sid != sid:
            return Outcome.UNKNOWN_MARKET
        if book.stale_reason is not None:
            return Outcome.STALE
        if book.change(side, price, delta, seq):
            return Outcome.APPLIED
        return Outcome.INCONSISTENT

    def _out_of_sequence(self, sid: int, seq: int, last: int) -> Outcome:
        """A seq that does not follow ``last``: ignore it, or on a gap mark every book of ``sid`` stale."""
        if seq == last:
            return Outcome.DUPLICATE
        if seq < last:
            return Outcome.LATE
        self._last_seq[sid] = seq
        for book in self._by_sid.get(sid, ()):
            book.mark_stale(f"seq gap on sid {sid}: {last} then {seq}")
        return Outcome.GAP

    def _adopt(self, ticker: str, sid: int, old: LiveBook | None) -> LiveBook:
        """A new book for ``ticker`` under ``sid`` (a market moved to another subscription leaves its old one)."""
        if old is not None:
            self._by_sid[old.sid].remove(old)
        book = LiveBook(ticker, sid)
        self._books[ticker] = book
        self._by_sid.setdefault(sid, []).append(book)
        return book
