"""Trade-tape import throughput and memory (markets.history), as ``importhistory`` runs it.

Full size imports the shared tapes (about a million prints, ../shared/data/kalshi)
after their events and markets, timing only the tapes: first import, then the
idempotent re-import. Memory is the growth of resident set size over the
process's size before the tapes, sampled while they import, so it shows whether
memory grows with file size. Quick size uses a synthetic tape.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.utils import timezone

from benchmarks import SHARED_DATA_DIR, Figure, Skip
from markets.history.importer import import_kalshi_history
from markets.history.tape import TapeResult, import_tape, read_tape
from markets.models import Event, Market, Series, Trade


class RssSampler:
    """Peak resident set size (bytes) while running, sampled every 10 ms from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.baseline = self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())


def rss() -> int:
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def synthetic_tapes(directory: Path, trades: int) -> list[Path]:
    series, _ = Series.objects.get_or_create(ticker="KXBENCH")
    event, _ = Event.objects.get_or_create(event_ticker="KXBENCH-25FEB28", series=series)
    tickers = [f"KXBENCH-25FEB28-B{40 + 2 * i}.5" for i in range(6)]
    for ticker in tickers:
        Market.objects.get_or_create(ticker=ticker, event=event)
    path = directory / "KXBENCH.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for n in range(trades):
            price = 1 + n % 98
            handle.write(
                json.dumps(
                    {
                        "trade_id": f"bench-{n:09d}",
                        "ticker": tickers[n % 6],
                        "count": 1 + n % 50,
                        "created_time": f"2025-02-28T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
                        f".{n % 1000:03d}Z",
                        "yes_price": price,
                        "no_price": 100 - price,
                        "taker_side": "yes" if n % 2 else "no",
                    }
                )
                + "\n"
            )
    return [path]


def shared_tapes() -> list[Path]:
    if not (SHARED_DATA_DIR / "kalshi" / "trades").is_dir():
        raise Skip(f"the shared trade tapes are not at {SHARED_DATA_DIR / 'kalshi'}")
    # Events and markets first (not timed): the tapes refer to them.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "kalshi").mkdir()
        for kind in ("events", "markets"):  # copied: small, and the file walk does not follow links
            shutil.copytree(SHARED_DATA_DIR / "kalshi" / kind, root / "kalshi" / kind)
        import_kalshi_history(root, now=timezone.now())
    return sorted((SHARED_DATA_DIR / "kalshi" / "trades").glob("*.jsonl.gz"))


def timed_import(paths: list[Path], market_ids: dict[str, int]) -> tuple[int, int, float, RssSampler]:
    read = inserted = 0
    with RssSampler() as memory:
        started = time.perf_counter()
        for path in paths:
            result = import_tape(path, market_ids)
            read, inserted = read + result.read, inserted + result.inserted
        elapsed = time.perf_counter() - started
    return read, inserted, elapsed, memory


def parse_only(paths: list[Path], market_ids: dict[str, int], *, copy_text: bool) -> float:
    started, result = time.perf_counter(), TapeResult()
    for path in paths:
        for _ in read_tape(path, market_ids, result, copy_text=copy_text):
            pass
    return result.read / (time.perf_counter() - started)


def run(*, quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = synthetic_tapes(Path(tmp), 20_000) if quick else shared_tapes()
        Trade.objects.all().delete()
        market_ids = dict(Market.objects.values_list("ticker", "id"))
        read, inserted, first, memory = timed_import(paths, market_ids)
        again_read, again_inserted, second, _ = timed_import(paths, market_ids)
        if inserted != read or again_inserted != 0:
            raise RuntimeError(f"import was not exact: {read} read, {inserted} new, then {again_inserted} new")
        as_rows = parse_only(paths, market_ids, copy_text=False)
        as_copy_text = parse_only(paths, market_ids, copy_text=True)
    mib = 1024 * 1024
    return [
        Figure("trades imported", read, "trades", f"{len(paths)} tape(s)"),
        Figure("first import", read / first, "trades/s", f"{first:.1f} s"),
        Figure("re-import (all already present)", again_read / second, "trades/s", f"{second:.1f} s"),
        Figure("read + validate only, as rows (no database)", as_rows, "trades/s", "SQLite's form"),
        Figure("read + validate only, as COPY text (no database)", as_copy_text, "trades/s", "PostgreSQL's form"),
        Figure(
            "peak RSS growth during the import",
            max(memory.peak - memory.baseline, 1) / mib,
            "MiB",
            f"baseline {memory.baseline / mib:.0f} MiB",
        ),
    ]
