"""The market feed as a service: the WebSocket connection, live order books, and what gets stored.

``run_feed`` connects to Kalshi's WebSocket (markets.feed.connection), watches
the open daily-temperature markets (order books, ticker and trades per market;
fills, orders, positions and market lifecycle for the account), and every
FEED_RECORD_SECONDS:

- stores the new prints of the tape (markets.feed.tape: each print once),
- stores a snapshot of every order book that changed and is in sequence
  (OrderBookSnapshot, source WebSocket, with its seq), so the project builds
  its own book history from day one,
- asks for fresh snapshots of books a sequence gap made stale,
- reports its state (connected, last frame, reconnects, gaps, stale books) as
  the ``feed`` heartbeat that /health/ and /metrics read;

and every MARKET_REFRESH it follows the markets that opened since (the
periodic market sync keeps the Market table current).

Account frames (fills, orders, positions) are counted here; writing them to
the Order and Fill tables, reconciled with REST, belongs to execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.module_loading import import_string

from kalshiweb.health import FEED_COMPONENT
from kalshiweb.models import Heartbeat
from kalshiweb.realtime import FeedStatusPayload, abroadcast, broadcast_on_commit, feed_status_event
from markets.feed.connection import FeedConnection, Signer
from markets.feed.protocol import PER_MARKET, Channel, Data
from markets.feed.tape import TapeRecorder
from markets.livebook import Books, FeedError, Level, LiveBook, Outcome, Side
from markets.models import Market, OrderBookDelta, OrderBookSnapshot, Series

logger = logging.getLogger(__name__)

MARKET_REFRESH = timedelta(minutes=1)
STATUS_EVERY = 10.0  # seconds between the dashboard's feed.status events while connectivity holds
_Capture = tuple[str, int, list[list[str]], list[list[str]]]
BOOK_TYPES = frozenset({"orderbook_snapshot", "orderbook_delta"})


def temperature_markets(now: datetime, *, day: date | None = None) -> dict[str, int]:
    """Open markets of the daily-high series with a city (or, given ``day``, that climate day's): ticker → id.

    A day's markets, open or not, are what a replay on the local exchange lists.
    """
    markets = Market.objects.filter(event__series__measure=Series.Measure.HIGH, event__series__city__isnull=False)
    if day is not None:
        markets = markets.filter(event__target_date=day)
    else:
        markets = markets.filter(status=Market.Status.ACTIVE, close_time__gt=now)
    return dict(markets.values_list("ticker", "pk"))


class AccountSink(Protocol):
    fills_stored: int

    def add(self, frame: Data) -> None: ...

    def flush(self) -> object: ...


class FeedRecorder:
    """The handler of the connection's frames, and what the feed stores and reports.

    Its ``on_*`` methods run in the event loop and only update memory;
    ``record`` runs in a worker thread and writes to the database.
    """

    def __init__(
        self,
        markets: dict[str, int],
        *,
        account: bool = True,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.markets = markets
        self.books = Books()
        self.tape = TapeRecorder(markets)
        self.gaps = 0
        self.account_frames: Counter[str] = Counter()
        self.errors: list[str] = []
        self._changed: set[str] = set()
        self._captured: list[_Capture] = []  # books captured in sequence, awaiting the next record
        self._asked: set[str] = set()  # stale books whose snapshot was asked for
        self._tasks: set[asyncio.Task[bool]] = set()
        self._clock = clock
        self._now = now  # the wall clock the stored deltas are stamped with
        self.connection: FeedConnection | None = None
        self.snapshots_stored = 0
        self.stopped = False  # set for the last report, when the feed ends
        self.divergences = 0  # in-sequence books a verifying snapshot found different
        self._deltas: list[OrderBookDelta] = []  # applied deltas, stored at the next record
        self.deltas_stored = 0
        # Our fills and order updates: stored by the recorder the FEED_ACCOUNT_RECORDER setting names (trading's).
        self.account: AccountSink | None = import_string(settings.FEED_ACCOUNT_RECORDER)() if account else None
        self._told: tuple[bool, int] | None = None  # (connected, reconnects) in the last feed.status event
        self._told_at = float("-inf")
        self._telling: set[asyncio.Task[None]] = set()

    # The connection's handler ------------------------------------------------------------------

    def on_subscribed(self, channel: Channel, sid: int) -> None:
        if channel is Channel.ORDERBOOK:
            self.books.clear()  # a new subscription numbers its frames afresh; its snapshots rebuild the books
        self._tell_from_loop()  # (connected)

    def on_disconnected(self) -> None:
        # The changes since the last record were in sequence: keep them before the books go stale.
        self._captured.extend(self._captures(self._changed))
        self._changed = set()
        for book in self.books:
            book.mark_stale("the connection dropped")
        self._tell_from_loop()

    def status_event(self) -> FeedStatusPayload | None:
        """The dashboard's feed.status when due: at once when connectivity changed, else every STATUS_EVERY."""
        state = self.connection.state if self.connection is not None else None
        told = (bool(state and state.connected), state.reconnects if state else 0)
        clock = self._clock()
        if told == self._told and clock - self._told_at < STATUS_EVERY:
            return None
        self._told, self._told_at = told, clock
        age = state.last_frame_age(clock) if state else None
        heard = None if age is None else self._now() - timedelta(seconds=age)
        return feed_status_event(connected=told[0], last_message_at=heard, reconnects=told[1])

    def _tell_from_loop(self) -> None:
        """Broadcast a due status from the event loop, in a task of its own (the handlers are not coroutines)."""
        if (event := self.status_event()) is None:
            return
        task = asyncio.get_running_loop().create_task(abroadcast(event))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    def on_data(self, frame: Data, raw: str | bytes) -> None:
        if frame.type in BOOK_TYPES:
            self._book_frame(frame, raw)
        elif frame.type == "trade":
            self.tape.add(frame)
        else:
            self.account_frames[frame.type] += 1
            if self.account is not None:
                self.account.add(frame)

    def _book_frame(self, frame: Data, raw: str | bytes) -> None:
        ticker = str(frame.msg.get("market_ticker"))
        held = self._held(ticker) if frame.type == "orderbook_snapshot" else None
        try:
            outcome = self.books.apply_raw(raw)
        except FeedError as exc:
            self._note(f"order book frame (sid {frame.sid}, seq {frame.seq}) refused: {exc}")
            return
        if outcome is Outcome.GAP:
            self.gaps += 1
            logger.warning("Kalshi WebSocket: sequence gap on sid %s at seq %s", frame.sid, frame.seq)
        if outcome in (Outcome.GAP, Outcome.INCONSISTENT):
            self._ask_for_snapshots()
        elif outcome in (Outcome.APPLIED, Outcome.RESYNCED):
            self._changed.add(ticker)
            self._asked.discard(ticker)
            if outcome is Outcome.APPLIED and ticker in self.markets:
                self._deltas.append(self._delta_row(ticker, frame))
        if outcome is Outcome.RESYNCED and held is not None and held != self._held(ticker):
            # The book was in sequence, yet the exchange's snapshot differs: a delta was lost unseen.
            self.divergences += 1
            logger.warning("Kalshi WebSocket: the book of %s had drifted from the exchange's; resynchronised", ticker)

    def _delta_row(self, ticker: str, frame: Data) -> OrderBookDelta:
        msg = frame.msg  # applied, so already validated by the book
        return OrderBookDelta(
            market_id=self.markets[ticker],
            received_at=self._now(),
            seq=frame.seq or 0,
            side=str(msg["side"]),
            price=Decimal(str(msg["price_dollars"])),
            delta=Decimal(str(msg["delta_fp"])),
        )

    def _held(self, ticker: str) -> tuple[tuple[Level, ...], tuple[Level, ...]] | None:
        """Both sides of a market's book while it is in sequence (None when stale or unknown)."""
        book = self.books.get(ticker)
        if book is None or book.stale:
            return None
        return book.levels("yes"), book.levels("no")

    def verify(self) -> None:
        """Ask for snapshots of every in-sequence book: a book that drifted unseen shows against them."""
        self._request_snapshots([book.ticker for book in self.books if not book.stale])

    def _ask_for_snapshots(self) -> None:
        """Ask at once for snapshots of the books gone stale (each once; ``record`` asks again if none came)."""
        wanted = [t for t in self.books.stale_tickers() if t not in self._asked]
        if wanted and self._request_snapshots(wanted):
            self._asked.update(wanted)

    def _request_snapshots(self, tickers: list[str]) -> bool:
        """Send get_snapshot for ``tickers`` from the event loop (the task is kept until done); False if unsent."""
        if not tickers or self.connection is None:
            return False
        task = asyncio.get_running_loop().create_task(self.connection.resync(Channel.ORDERBOOK, tickers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def ask_again(self) -> None:
        """Ask again for the snapshots of books still stale a period after they were asked for."""
        self._asked.clear()
        self._ask_for_snapshots()

    def _note(self, error: str) -> None:
        logger.warning("Kalshi WebSocket: %s", error)
        self.errors = [*self.errors[-19:], error]

    # Recording -------------------------------------------------------------------------------

    def record(self, now: datetime) -> None:
        """Store the new prints and the changed, in-sequence books; beat the feed's heartbeat."""
        self.tape.flush()
        if self.account is not None:
            self.account.flush()
        captured, self._captured = [*self._captured, *self._captures(self._changed)], []
        self._changed = set()
        snapshots = [
            OrderBookSnapshot(
                market_id=self.markets[ticker],
                captured_at=now,
                source=OrderBookSnapshot.Source.WEBSOCKET,
                seq=seq,
                yes_bids=yes,
                no_bids=no,
            )
            for ticker, seq, yes, no in captured
        ]
        OrderBookSnapshot.objects.bulk_create(snapshots)
        deltas, self._deltas = self._deltas, []
        OrderBookDelta.objects.bulk_create(deltas, batch_size=2000)
        self.deltas_stored += len(deltas)
        self.snapshots_stored += len(snapshots)
        Heartbeat.objects.beat(FEED_COMPONENT, now=now, detail=self.detail())
        if (event := self.status_event()) is not None:
            broadcast_on_commit(event)

    def _captures(self, tickers: set[str]) -> list[_Capture]:
        """The in-sequence books of ``tickers`` as they are now: (ticker, seq, YES bids, NO bids)."""
        return [
            (ticker, book.seq, _levels(book, "yes"), _levels(book, "no"))
            for ticker in sorted(tickers)
            if (book := self.books.get(ticker)) is not None and not book.stale and ticker in self.markets
        ]

    def detail(self) -> dict[str, object]:
        state = self.connection.state if self.connection is not None else None
        errors = [*(state.errors if state else []), *self.errors]
        age = state.last_frame_age(self._clock()) if state else None
        return {
            "connected": bool(state and state.connected),
            "last_frame_age_seconds": None if age is None else round(age, 1),
            "frames": state.frames if state else 0,
            "reconnects": state.reconnects if state else 0,
            "gaps": self.gaps,
            "divergences": self.divergences,
            "stale_books": len(self.books.stale_tickers()),
            "books": len(self.books),
            "markets": len(self.markets),
            "trades_stored": self.tape.stored,
            "book_snapshots_stored": self.snapshots_stored,
            "book_deltas_stored": self.deltas_stored,
            "account_frames": dict(self.account_frames),
            "fills_stored": self.account.fills_stored if self.account is not None else 0,
            "last_error": errors[-1] if errors else "",
            "stopped": self.stopped,
        }


def _levels(book: LiveBook, side: Side) -> list[list[str]]:
    """One side as stored: exact decimal strings, best first."""
    return [[str(price), str(size)] for price, size in book.levels(side)]


async def run_feed(
    signer: Signer,
    stop: asyncio.Event,
    *,
    url: str | None = None,
    record_every: float | None = None,
    day: date | None = None,
    clock: Callable[[], datetime] = timezone.now,
) -> FeedRecorder:
    """Run the feed until ``stop`` is set; returns its recorder (what it heard and stored).

    ``day`` watches that climate day's markets instead of the open ones (a replay on the local exchange).
    """
    recorder = FeedRecorder(await sync_to_async(temperature_markets)(clock(), day=day))
    connection = FeedConnection(url or settings.KALSHI_WS_URL, signer, recorder)
    recorder.connection = connection
    for channel in Channel:
        connection.watch(channel, recorder.markets if channel in PER_MARKET else ())
    logger.info("Kalshi WebSocket feed: %d temperature markets at %s", len(recorder.markets), connection.url)
    task = asyncio.create_task(connection.run(stop))
    period = record_every if record_every is not None else float(settings.FEED_RECORD_SECONDS)
    refreshed = verified = clock()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):  # the period passed
                await asyncio.wait_for(stop.wait(), timeout=period)
            await sync_to_async(recorder.record)(clock())
            recorder.ask_again()
            if clock() - verified >= timedelta(seconds=settings.FEED_VERIFY_SECONDS):
                verified = clock()
                recorder.verify()
            if clock() - refreshed >= MARKET_REFRESH:
                refreshed = clock()
                await _follow_new_markets(connection, recorder, clock(), day)
    finally:
        stop.set()
        await task
        recorder.stopped = True
        await sync_to_async(recorder.record)(clock())
        # The database work ran in asgiref's worker thread: close its connections, or they outlive the feed.
        await sync_to_async(connections.close_all)()
    return recorder


async def _follow_new_markets(
    connection: FeedConnection, recorder: FeedRecorder, now: datetime, day: date | None
) -> None:
    current = await sync_to_async(temperature_markets)(now, day=day)
    new = {ticker: pk for ticker, pk in current.items() if ticker not in recorder.markets}
    if not new:
        return
    recorder.markets.update(new)  # the tape recorder shares this mapping
    logger.info("Kalshi WebSocket feed: following %d new markets", len(new))
    for channel in PER_MARKET:
        await connection.follow(channel, new)


class FeedThread:
    """The feed in a thread of its own event loop: the embedded runner's ``feed`` service."""

    name = "feed"

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="market-feed", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            await run_feed(self._signer, self._stop)

        try:
            asyncio.run(main())
        except Exception:
            logger.exception("The market feed stopped on an error")
        finally:
            self._ready.set()

    def stop(self, timeout: float) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        logger.info("Market feed stopped")
