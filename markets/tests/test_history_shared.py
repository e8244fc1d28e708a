"""importhistory on the real Kalshi history in ../shared/data/kalshi: counts match the files."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from markets.brackets import BracketError, brackets_from_tickers
from markets.history.importer import import_kalshi_history
from markets.models import Event, Market, Trade
from markets.tickers import event_ticker_of
from markets.units import timestamp

pytestmark = [pytest.mark.shared_data, pytest.mark.slow, pytest.mark.django_db]

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def jsonl(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def csv_tickers(paths: list[Path]) -> set[str]:
    tickers: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            tickers.update(row["ticker"] for row in csv.DictReader(handle))
    return tickers


@pytest.fixture(scope="module")
def kalshi_files(shared_data_dir):
    root = shared_data_dir / "kalshi"
    return {
        "events": sorted((root / "events").glob("*.jsonl")),
        "markets": sorted((root / "markets").glob("*.jsonl")),
        "trades": sorted((root / "trades").glob("*.jsonl.gz")),
        "settled": sorted((root / "settled").glob("*.csv")),
        "settled-markets": sorted((root / "settled" / "lcswnn-markets").glob("*.csv")),
    }


def test_the_whole_kalshi_history_imports_and_matches_the_files(shared_data_dir, kalshi_files):
    report = import_kalshi_history(shared_data_dir, now=NOW)

    events = [row for path in kalshi_files["events"] for row in jsonl(path)]
    markets = [row for path in kalshi_files["markets"] for row in jsonl(path)]
    trade_ids = {row["trade_id"] for path in kalshi_files["trades"] for row in jsonl(path)}
    settled_lines = sum(1 for path in kalshi_files["settled"] for _ in path.open()) - len(kalshi_files["settled"])

    assert (
        report.kinds["events"].read
        == report.kinds["events"].created
        == len(events)
        == len({e["event_ticker"] for e in events})
    )
    assert report.kinds["markets"].read == report.kinds["markets"].created == len(markets)
    assert report.kinds["trades"].read == report.kinds["trades"].created == len(trade_ids) == Trade.objects.count()
    assert report.kinds["settled"].read == settled_lines
    assert not [note for note in report.notes if "not imported" in note]

    # Every market ever listed exists once: the market files plus what only the settled tables know.
    all_tickers = {str(m["ticker"]) for m in markets} | csv_tickers(
        kalshi_files["settled"] + kalshi_files["settled-markets"]
    )
    assert Market.objects.count() == len(all_tickers)
    assert Event.objects.count() == len({event_ticker_of(t) for t in all_tickers})

    # Each market row says what its line says (Kalshi's own objects win over the settled tables).
    stored = {m.ticker: m for m in Market.objects.filter(ticker__in=[m["ticker"] for m in markets])}
    for line in markets:
        row = stored[str(line["ticker"])]
        assert row.close_time == timestamp(line["close_time"], field="close_time")
        assert row.result == line["result"] or (line["result"] == "" and row.result in {"yes", "no"})
        assert row.status in {line["status"], "finalized", "settled"}
        assert row.last_price == Decimal(int(line["last_price"])) / 100  # type: ignore[call-overload]
        if line.get("strike_type"):
            assert row.strike_type == line["strike_type"]


def test_a_second_import_adds_nothing(shared_data_dir):
    import_kalshi_history(shared_data_dir, now=NOW)
    counts = (Event.objects.count(), Market.objects.count(), Trade.objects.count())
    again = import_kalshi_history(shared_data_dir, now=NOW)
    assert all(kind.created == 0 and kind.updated == 0 for kind in again.kinds.values()), again.kinds
    assert (Event.objects.count(), Market.objects.count(), Trade.objects.count()) == counts


def test_brackets_read_from_tickers_agree_with_every_market_that_states_its_strikes(shared_data_dir):
    """The ticker reading used for strike-less downloads, checked on every event whose markets all have strikes."""
    import_kalshi_history(shared_data_dir, now=NOW)
    checked = 0
    for event in Event.objects.prefetch_related("markets"):
        markets = list(event.markets.all())
        if not all(m.strike_type for m in markets):
            continue
        assert brackets_from_tickers([m.ticker for m in markets]) == {m.ticker: m.bracket() for m in markets}, event
        checked += 1
    assert checked > 700  # 764 events in the 2025-02 snapshot
    # The settled-market tables list only some markets of some events: those ladders are
    # errors naming the gap, never a partial ladder; the complete ones read.
    readable, partial = 0, []
    for event in Event.objects.prefetch_related("markets"):
        try:
            event.brackets()
            readable += 1
        except BracketError as exc:
            if event.event_ticker.startswith("KX"):  # legacy 2021-22 tickers had other strike spellings
                partial.append(str(exc))
    assert readable > 2000  # 2,303 of 3,571 events in the 2025-02 snapshot
    assert partial and all("two tails" in text or "no market covers" in text for text in partial)
