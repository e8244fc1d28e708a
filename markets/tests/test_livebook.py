"""Live order books from WebSocket frames: levels, seq checks, strict parsing, and never a silently wrong book."""

from __future__ import annotations

import re
from decimal import Decimal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from markets import livebook
from markets.livebook import Books, Delta, FeedError, LiveBook, Outcome, Quote, Snapshot, parse_message
from prediction.book import best_quote

D = Decimal
T1, T2 = "KXHIGHNY-26DEC05-B40.5", "KXHIGHNY-26DEC05-B42.5"


def snapshot(seq, ticker=T1, *, sid=1, yes=(), no=()):
    msg = {"market_ticker": ticker, "market_id": "00000000-0000-4000-8000-000000000001"}
    if yes:
        msg["yes_dollars_fp"] = [list(level) for level in yes]
    if no:
        msg["no_dollars_fp"] = [list(level) for level in no]
    return orjson.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg})


def delta(seq, price, change, side="yes", ticker=T1, *, sid=1):
    msg = {
        "market_ticker": ticker,
        "market_id": "00000000-0000-4000-8000-000000000001",
        "price_dollars": price,
        "delta_fp": change,
        "side": side,
        "ts_ms": 1796432400000,
    }
    return orjson.dumps({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg})


def book_of(books: Books, ticker: str = T1) -> LiveBook:
    book = books.get(ticker)
    assert book is not None, ticker
    return book


def fresh_book(**kwargs) -> tuple[Books, LiveBook]:
    books = Books()
    sides = {"yes": [("0.4000", "10.00"), ("0.4200", "5.00")], "no": [("0.5500", "20.00"), ("0.5000", "1.00")]}
    assert books.apply_raw(snapshot(1, **(sides | kwargs))) is Outcome.RESYNCED
    return books, book_of(books)


# Levels and quotes -----------------------------------------------------------------------------


def test_a_snapshot_sorts_both_sides_and_quotes_the_yes_ask_off_the_no_bids():
    _, book = fresh_book()
    assert book.levels("yes") == ((D("0.42"), D(5)), (D("0.40"), D(10)))  # sorted here, not in payload order
    assert book.levels("no") == ((D("0.55"), D(20)), (D("0.50"), D(1)))
    assert book.best_bid("yes") == (D("0.42"), D(5))
    assert book.best_ask("yes") == (D("0.45"), D(20))
    assert book.best_bid("no") == (D("0.55"), D(20))
    assert book.best_ask("no") == (D("0.58"), D(5))
    assert book.quote() == Quote(bid=D("0.42"), bid_size=D(5), ask=D("0.45"), ask_size=D(20))
    assert book.tradeable and not book.stale and book.seq == 1


def test_the_live_quote_is_the_one_the_features_use():
    _, book = fresh_book()
    quote = book.quote()
    assert quote is not None
    assert quote == best_quote(book.levels("yes"), book.levels("no"))
    assert book.spread() == D("0.03") == quote.spread
    assert book.weighted_mid() == quote.weighted_mid == pytest.approx((0.42 * 20 + 0.45 * 5) / 25)
    assert book.imbalance() == quote.imbalance == pytest.approx((5 - 20) / 25)


def test_depth_counts_the_best_levels_or_a_price_range():
    _, book = fresh_book(yes=[("0.4000", "10.00"), ("0.4200", "5.00"), ("0.3000", "7.00"), ("0.4100", "2.00")])
    assert book.depth("yes") == D(24)
    assert book.depth("yes", levels=2) == D(7)
    assert book.depth("yes", within=D("0.02")) == D(17)  # 0.42, 0.41 and 0.40
    assert book.depth("yes", levels=1, within=D("0.05")) == D(5)
    assert book.depth("no", levels=10) == D(21)


def test_a_missing_side_is_empty_and_gives_no_quote():
    books = Books()
    books.apply_raw(snapshot(1, yes=[("0.4000", "10.00")]))
    book = book_of(books)
    assert book.levels("no") == ()
    assert book.quote() is None and book.best_ask("yes") is None and book.spread() is None
    assert not book.tradeable and not book.stale
    assert book.depth("no") == 0


def test_zero_size_levels_in_a_snapshot_are_dropped():
    _, book = fresh_book(yes=[("0.4000", "0.00"), ("0.3900", "3.00")])
    assert book.levels("yes") == ((D("0.39"), D(3)),)


# Deltas ----------------------------------------------------------------------------------------


def test_deltas_add_change_and_remove_levels():
    books, book = fresh_book()
    assert books.apply_raw(delta(2, "0.4300", "4.00")) is Outcome.APPLIED  # a new best bid
    assert book.best_bid("yes") == (D("0.43"), D(4))
    assert books.apply_raw(delta(3, "0.4300", "-1.00")) is Outcome.APPLIED
    assert book.best_bid("yes") == (D("0.43"), D(3))
    assert books.apply_raw(delta(4, "0.4300", "-3.00")) is Outcome.APPLIED  # reaches 0: gone
    assert book.levels("yes") == ((D("0.42"), D(5)), (D("0.40"), D(10)))
    assert books.apply_raw(delta(5, "0.5500", "-20.00", side="no")) is Outcome.APPLIED
    assert book.best_ask("yes") == (D("0.50"), D(1))
    assert books.apply_raw(delta(6, "0.41", "2.5", side="yes")) is Outcome.APPLIED  # other spellings of fixed point
    assert book.levels("yes")[1] == (D("0.41"), D("2.5"))
    assert book.seq == 6 and book.tradeable


def test_a_delta_that_leaves_a_negative_size_marks_the_book_stale_until_a_snapshot():
    books, book = fresh_book()
    assert books.apply_raw(delta(2, "0.4200", "-6.00")) is Outcome.INCONSISTENT
    assert book.stale_reason is not None
    assert "negative size" in book.stale_reason and "0.42" in book.stale_reason
    assert not book.tradeable
    assert book.quote() is None and book.best_bid("yes") is None and book.depth("yes") is None
    assert book.weighted_mid() is None and book.imbalance() is None
    assert books.apply_raw(delta(3, "0.3000", "1.00")) is Outcome.STALE  # in sequence, still not applied
    assert books.stale_tickers() == [T1]
    assert books.apply_raw(snapshot(4, yes=[("0.3000", "1.00")], no=[("0.6000", "1.00")])) is Outcome.RESYNCED
    assert book.tradeable and book.quote() == Quote(D("0.30"), D(1), D("0.40"), D(1))
    assert books.stale_tickers() == []


def test_a_delta_removing_a_level_that_is_not_there_is_inconsistent():
    books, book = fresh_book()
    assert books.apply_raw(delta(2, "0.1000", "-1.00")) is Outcome.INCONSISTENT
    assert book.stale


# Sequence numbers ------------------------------------------------------------------------------


def test_a_seq_gap_makes_every_book_of_the_subscription_stale():
    books, book = fresh_book()
    books.apply_raw(snapshot(2, T2, yes=[("0.1000", "1.00")], no=[("0.8000", "1.00")]))
    books.apply_raw(snapshot(1, "OTHER-MARKET", sid=2, yes=[("0.1000", "1.00")], no=[("0.8000", "1.00")]))
    assert books.apply_raw(delta(4, "0.4200", "1.00")) is Outcome.GAP  # seq 3 was lost
    assert book.stale and book.stale_reason == "seq gap on sid 1: 2 then 4"
    assert book.levels("yes") == () and book.quote() is None  # a gap discards the book
    assert book_of(books, T2).stale
    assert book_of(books, "OTHER-MARKET").tradeable  # another subscription is not affected
    assert books.apply_raw(delta(5, "0.4200", "1.00")) is Outcome.STALE  # after a gap: not applied
    assert sorted(books.stale_tickers()) == [T1, T2]
    # A snapshot resynchronises its own market only.
    assert books.apply_raw(snapshot(6, yes=[("0.4100", "3.00")], no=[("0.5000", "2.00")])) is Outcome.RESYNCED
    assert book.tradeable and book.seq == 6
    assert books.apply_raw(delta(7, "0.4100", "1.00")) is Outcome.APPLIED
    assert books.apply_raw(delta(8, "0.1000", "1.00", ticker=T2)) is Outcome.STALE
    assert book.best_bid("yes") == (D("0.41"), D(4)) and books.stale_tickers() == [T2]


def test_duplicates_and_late_messages_are_ignored():
    books, book = fresh_book()
    first = delta(2, "0.4200", "1.00")
    assert books.apply_raw(first) is Outcome.APPLIED
    assert books.apply_raw(first) is Outcome.DUPLICATE
    assert books.apply_raw(delta(3, "0.4200", "1.00")) is Outcome.APPLIED
    assert books.apply_raw(first) is Outcome.LATE
    assert books.apply_raw(snapshot(1)) is Outcome.LATE  # an old snapshot never rolls the book back
    assert book.best_bid("yes") == (D("0.42"), D(7)) and book.tradeable
    assert books.last_seq(1) == 3


def test_a_snapshot_after_a_gap_resyncs_its_market_and_stales_the_others():
    books, book = fresh_book()
    books.apply_raw(snapshot(2, T2, yes=[("0.1000", "1.00")], no=[("0.8000", "1.00")]))
    assert books.apply_raw(snapshot(5, yes=[("0.3000", "1.00")], no=[("0.6000", "1.00")])) is Outcome.RESYNCED
    assert book.tradeable and book_of(books, T2).stale


def test_a_delta_before_its_market_has_a_snapshot_is_not_applied_but_counts_in_the_sequence():
    books, _ = fresh_book()
    assert books.apply_raw(delta(2, "0.1000", "1.00", ticker=T2)) is Outcome.UNKNOWN_MARKET
    assert books.get(T2) is None
    assert books.apply_raw(delta(3, "0.4200", "1.00")) is Outcome.APPLIED


def test_a_market_resnapshotted_under_another_subscription_moves_to_it():
    books, _ = fresh_book()
    assert books.apply_raw(snapshot(1, sid=7, yes=[("0.2000", "1.00")])) is Outcome.RESYNCED
    book = book_of(books)
    assert book.sid == 7 and book.levels("yes") == ((D("0.20"), D(1)),)
    assert books.apply_raw(delta(2, "0.2000", "1.00")) is Outcome.UNKNOWN_MARKET  # the old sid's deltas
    assert books.apply_raw(delta(3, "0.4200", "1.00")) is Outcome.UNKNOWN_MARKET
    assert books.apply_raw(delta(2, "0.2000", "1.00", sid=7)) is Outcome.APPLIED
    assert len(books) == 1 and list(books) == [book]


def test_clear_forgets_books_and_sequences():
    books, _ = fresh_book()
    books.clear()
    assert books.get(T1) is None and books.last_seq(1) is None
    assert books.apply_raw(delta(1, "0.4200", "1.00")) is Outcome.UNKNOWN_MARKET


# Parsing ---------------------------------------------------------------------------------------


def test_frames_parse_to_typed_messages_that_apply_like_raw_frames():
    message = parse_message(delta(2, "0.4200", "-54.00", side="no"))
    assert message == Delta(sid=1, seq=2, ticker=T1, side="no", price=D("0.42"), delta=D(-54))
    snap = parse_message(snapshot(1, yes=[("0.4000", "10.00"), ("0.4200", "5.00")]).decode())
    assert snap == Snapshot(1, 1, T1, yes=((D("0.42"), D(5)), (D("0.40"), D(10))), no=())
    books = Books()
    assert books.apply(snap) is Outcome.RESYNCED
    assert books.apply(Delta(1, 2, T1, "yes", D("0.42"), D(1))) is Outcome.APPLIED
    assert book_of(books, T1).best_bid("yes") == (D("0.42"), D(6))


@pytest.mark.parametrize(
    "frame",
    [
        b'{"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}',
        b'{"type": "ticker", "sid": 3, "msg": {"market_ticker": "X"}}',
        b'{"type": "error", "id": 2, "msg": {"code": 6, "msg": "Already subscribed"}}',
    ],
)
def test_other_messages_are_not_book_messages(frame):
    assert parse_message(frame) is None
    assert Books().apply_raw(frame) is Outcome.NOT_BOOK


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (delta(2, "0.42e0", "1.00"), "orderbook_delta for KXHIGHNY-26DEC05-B40.5: price_dollars: expected a dollar"),
        (delta(2, 0.42, "1.00"), "price_dollars: expected a dollar price"),
        (delta(2, "1.0000", "1.00"), "price_dollars: expected a dollar price"),
        (delta(2, "0.0000", "1.00"), f"{T1}: price_dollars: expected a price above 0, got '0.0000'"),
        (delta(2, "NaN", "1.00"), "price_dollars"),
        (delta(2, "-0.4200", "1.00"), "price_dollars"),
        (delta(2, "0.4200", "1e3"), f"orderbook_delta for {T1}: delta_fp: expected a signed count"),
        (delta(2, "0.4200", 54), "delta_fp"),
        (delta(2, "0.4200", " 5.00"), "delta_fp"),
        (delta(2, "0.4200", "1_000"), "delta_fp"),
        (delta(2, "0.4200", "1.00", side="buy"), "side: expected 'yes' or 'no', got 'buy'"),
        (delta(0, "0.4200", "1.00"), f"for {T1}: seq: expected a positive integer, got 0"),
        (delta(True, "0.4200", "1.00"), "seq: expected a positive integer, got True"),
        (delta(2, "0.4200", "1.00", sid="1"), "sid: expected a positive integer"),
        (delta(2, "0.4200", "1.00", ticker=""), "orderbook_delta.msg.market_ticker: expected a ticker"),
        (b'{"type": "orderbook_delta", "sid": 1, "seq": 2}', "orderbook_delta.msg: expected an object"),
        (snapshot(1, yes=[("0.4000", "-1.00")]), f"orderbook_snapshot for {T1}: yes_dollars_fp: expected a contract"),
        (snapshot(1, no=[("0.4000", "1.00"), ("0.40", "2.00")]), "no_dollars_fp: price 0.40 appears twice"),
        (snapshot(1, yes=[("0.4000",)]), "yes_dollars_fp: expected [price, size], got ['0.4000']"),
        (snapshot(1, yes=[("0.4000", 1.5)]), "yes_dollars_fp: expected a contract count"),
        (
            b'{"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {"market_ticker": "X", "no_dollars_fp": {}}}',
            "orderbook_snapshot for X: no_dollars_fp: expected a list",
        ),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"{not json", "not JSON"),
    ],
)
def test_malformed_frames_are_errors_naming_the_market_and_field(frame, error):
    with pytest.raises(FeedError, match=re.escape(error)):
        parse_message(frame)
    with pytest.raises(FeedError, match=re.escape(error)):
        Books().apply_raw(frame)


def test_the_parsed_string_caches_stay_bounded(monkeypatch):
    monkeypatch.setattr(livebook, "_CACHE_LIMIT", 3)
    monkeypatch.setattr(livebook, "_prices", {})
    books, book = fresh_book()
    for seq, cents in enumerate(range(10, 20), 2):
        assert books.apply_raw(delta(seq, f"0.{cents}00", "1.00")) is Outcome.APPLIED
    assert len(livebook._prices) <= 3
    assert book.depth("yes") == D(25)


# Properties ------------------------------------------------------------------------------------

PRICES = [D(n) / 100 for n in range(1, 13)]  # few prices, so deltas collide on levels
SIZES = st.integers(0, 40)


def _text(levels):
    return [(f"{price:.4f}", f"{size:.2f}") for price, size in levels.items()]


def _sorted(levels):
    return tuple(sorted(((price, size) for price, size in levels.items() if size), reverse=True))


@st.composite
def streams(draw, *, tickers=(T1,), resyncs=False):
    """In-order frames on sid 1, and each market's true levels after each frame (index = seq)."""
    state = {
        ticker: {
            side: {PRICES[i]: D(draw(st.integers(1, 40))) for i in draw(st.sets(st.integers(0, 11), max_size=6))}
            for side in ("yes", "no")
        }
        for ticker in tickers
    }
    frames = [
        snapshot(seq, ticker, yes=_text(state[ticker]["yes"]), no=_text(state[ticker]["no"]))
        for seq, ticker in enumerate(tickers, 1)
    ]
    initial = {t: {s: _sorted(state[t][s]) for s in ("yes", "no")} for t in tickers}
    truth = [None] + [initial] * len(tickers)
    for _ in range(draw(st.integers(0, 30))):
        ticker = draw(st.sampled_from(tickers))
        seq = len(frames) + 1
        if resyncs and draw(st.integers(0, 9)) == 0:
            frames.append(snapshot(seq, ticker, yes=_text(state[ticker]["yes"]), no=_text(state[ticker]["no"])))
        else:
            side = draw(st.sampled_from(("yes", "no")))
            price = draw(st.sampled_from(PRICES))
            old = state[ticker][side].get(price, D(0))
            new = D(draw(SIZES))
            state[ticker][side][price] = new
            frames.append(delta(seq, f"{price:.4f}", f"{new - old:.2f}", side, ticker))
        truth.append({t: {s: _sorted(state[t][s]) for s in ("yes", "no")} for t in tickers})
    return frames, truth


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_a_book_built_from_deltas_equals_a_snapshot_of_the_final_state(stream):
    frames, truth = stream
    books = Books()
    for frame in frames:
        assert books.apply_raw(frame) in (Outcome.RESYNCED, Outcome.APPLIED)
    built = book_of(books)
    final = truth[-1][T1]
    rebuilt = Books()
    rebuilt.apply_raw(
        snapshot(
            1,
            yes=[(f"{p:.4f}", f"{s:.2f}") for p, s in final["yes"]],
            no=[(f"{p:.4f}", f"{s:.2f}") for p, s in final["no"]],
        )
    )
    fresh = book_of(rebuilt)
    assert not built.stale
    for side in ("yes", "no"):
        assert built.levels(side) == fresh.levels(side) == final[side]
        assert built.best_bid(side) == fresh.best_bid(side)
        assert built.best_ask(side) == fresh.best_ask(side)
        assert built.depth(side, levels=3) == fresh.depth(side, levels=3)
    assert built.quote() == fresh.quote() == best_quote(final["yes"], final["no"])


DELIVERY = st.tuples(st.sampled_from(["ok"] * 6 + ["drop", "duplicate", "late"]), st.integers(1, 4))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(tickers=(T1, T2), resyncs=True), st.data())
def test_under_lost_repeated_and_reordered_frames_a_book_is_right_or_stale(stream, data):
    frames, truth = stream
    plan = data.draw(st.lists(DELIVERY, min_size=len(frames), max_size=len(frames)))
    arrivals = []
    for position, (frame, (mode, lag)) in enumerate(zip(frames, plan, strict=True)):
        if mode != "drop":
            arrivals.append((position + (lag + 0.5 if mode == "late" else 0), frame))
        if mode == "duplicate":
            arrivals.append((position + lag + 0.5, frame))
    arrivals.sort(key=lambda arrival: arrival[0])

    books = Books()
    for _, frame in arrivals:
        books.apply_raw(frame)
        seen = books.last_seq(1)
        for ticker in (T1, T2):
            book = books.get(ticker)
            if book is None or book.stale:
                assert book is None or (book.quote() is None and not book.tradeable)
                continue
            expected = truth[seen][ticker]
            assert (book.levels("yes"), book.levels("no")) == (expected["yes"], expected["no"])
            assert book.quote() == best_quote(expected["yes"], expected["no"])
    if all(mode == "ok" for mode, _ in plan):
        assert not books.stale_tickers() and books.last_seq(1) == len(frames)
