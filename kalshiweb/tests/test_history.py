from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kalshiweb.history import import_history

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def test_it_routes_files_and_lists_what_nobody_takes_with_the_reason(tmp_path):
    (tmp_path / "kalshi" / "settled" / "lcswnn-backtest").mkdir(parents=True)
    (tmp_path / "kalshi" / "settled" / "lcswnn-backtest" / "KXHIGHNY.csv").write_text("date,city\n")
    (tmp_path / "kalshi" / "events").mkdir()
    (tmp_path / "kalshi" / "events" / "KXHIGHNY.jsonl").write_text("")
    (tmp_path / "notes.txt").write_text("hello")
    report = import_history(tmp_path, now=NOW)
    skipped = {path.relative_to(tmp_path).as_posix(): reason for path, reason in report.skipped}
    refused = "a derived table without market tickers: cannot be tied to markets"
    assert skipped == {
        "kalshi/settled/lcswnn-backtest/KXHIGHNY.csv": refused,
        "notes.txt": "not recognised by any importer",
    }
    ((name, section),) = report.sections
    assert name == "markets.history.importer"
    assert section.kinds["events"].files == 1


def test_an_empty_folder_imports_nothing(tmp_path):
    report = import_history(tmp_path, now=NOW)
    assert (report.sections, report.skipped) == ([], [])
