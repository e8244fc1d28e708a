"""Live order books from raw WebSocket frames: deltas per second, and latency to the updated best quote.

A synthetic ``orderbook_delta`` stream (one subscription over a day's worth
of temperature markets, deltas clustered near the top of each book, as
quoting and cancelling are) is serialised up front, then fed as bytes through
``markets.livebook.Books.apply_raw``: JSON parsing, validation of every field
and the update, in one process. The latency is from a frame in hand to the
market's best bid and ask read back after it. Goal: over 250,000 deltas/s and
a p99 under 50 µs.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

import orjson

from benchmarks import Figure
from markets.livebook import Books, Outcome

MARKETS = 120  # 20 cities x 6 brackets
LEVELS = 30  # per side at the snapshot
TICK = Decimal("0.01")


def run(*, quick: bool) -> list[Figure]:
    deltas = 5_000 if quick else 300_000
    snapshots, frames, tickers = _stream(deltas, seed=20261205)

    books = Books()
    for raw in snapshots:
        books.apply_raw(raw)
    apply = books.apply_raw
    started = time.perf_counter()
    for raw in frames:
        apply(raw)
    elapsed = time.perf_counter() - started
    if books.stale_tickers():
        raise RuntimeError(f"the synthetic stream left stale books: {books.stale_tickers()[:5]}")

    books = Books()
    for raw in snapshots:
        books.apply_raw(raw)
    get, clock = books.get, time.perf_counter_ns
    latencies = []
    for raw, ticker in zip(frames, tickers, strict=True):
        began = clock()
        outcome = books.apply_raw(raw)
        book = get(ticker)
        quote = book.quote() if book is not None else None
        latencies.append(clock() - began)
        if outcome is not Outcome.APPLIED or quote is None:
            raise RuntimeError(f"{ticker}: {outcome}, quote {quote}")
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(int(len(latencies) * p), len(latencies) - 1)] / 1000

    note = f"{deltas:,} deltas over {MARKETS} markets"
    return [
        Figure("deltas applied from raw JSON", deltas / elapsed, "deltas/s", note),
        Figure("frame to best quote, p50", percentile(0.50), "µs"),
        Figure("frame to best quote, p99", percentile(0.99), "µs", "goal < 50"),
        Figure("frame to best quote, p99.9", percentile(0.999), "µs"),
    ]


def _stream(deltas: int, *, seed: int) -> tuple[list[bytes], list[bytes], list[str]]:
    """Snapshot frames, then delta frames (with their tickers) that keep every size positive."""
    rng = random.Random(seed)
    sid, seq = 1, 0
    books: list[dict[str, dict[Decimal, Decimal]]] = []
    tickers = [f"KXHIGHC{n // 6:02d}-26DEC05-B{40 + 2 * (n % 6)}.5" for n in range(MARKETS)]
    snapshots = []
    msg: dict[str, object]
    for ticker in tickers:
        top = rng.randint(20, 70)
        yes = {TICK * (top - k): Decimal(rng.randint(1, 500)) for k in range(LEVELS) if top - k > 0}
        no = {TICK * (98 - top - k): Decimal(rng.randint(1, 500)) for k in range(LEVELS) if 98 - top - k > 0}
        books.append({"yes": yes, "no": no})
        seq += 1
        msg = {
            "market_ticker": ticker,
            "market_id": f"00000000-0000-4000-8000-{len(books):012d}",
            "yes_dollars_fp": [[f"{p:.4f}", f"{s:.2f}"] for p, s in yes.items()],
            "no_dollars_fp": [[f"{p:.4f}", f"{s:.2f}"] for p, s in no.items()],
        }
        snapshots.append(orjson.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg}))

    frames, frame_tickers = [], []
    for _ in range(deltas):
        n = rng.randrange(MARKETS)
        side = "yes" if rng.random() < 0.5 else "no"
        levels = books[n][side]
        best = max(levels) if levels else TICK * 30
        price = best - TICK * min(int(rng.expovariate(0.5)), 20) + (TICK if rng.random() < 0.1 else 0)
        if not TICK <= price <= 1 - TICK:
            price = best
        size = levels.get(price, Decimal(0))
        change = -size if size and rng.random() < 0.3 else Decimal(rng.randint(-int(size), 200) or 1)
        if not size + change and len(levels) == 1:
            change = Decimal(1)  # never empty a whole side: every frame moves a two-sided quote
        if size + change:
            levels[price] = size + change
        else:
            levels.pop(price, None)
        seq += 1
        msg = {
            "market_ticker": tickers[n],
            "market_id": f"00000000-0000-4000-8000-{n + 1:012d}",
            "price_dollars": f"{price:.4f}",
            "delta_fp": f"{change:.2f}",
            "side": side,
            "ts": "2026-12-05T01:00:00Z",
            "ts_ms": 1796432400000 + seq,
        }
        frames.append(orjson.dumps({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg}))
        frame_tickers.append(tickers[n])
    return snapshots, frames, frame_tickers
