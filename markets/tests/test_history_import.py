"""importhistory on small files we write ourselves: every rule and every failure."""

from __future__ import annotations

import gzip
import io
import json
import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.history import readers, tape, tape_store
from markets.history.catalog import ensure_events
from markets.history.importer import import_kalshi_history
from markets.history.readers import MalformedLine, RowProblem, csv_rows, json_objects, stage_files
from markets.models import Event, Market, Series, Trade

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def event(ticker: str, series: str = "KXHIGHNY") -> dict[str, object]:
    return {
        "event_ticker": ticker,
        "series_ticker": series,
        "title": f"Highest temperature in NYC on {ticker}?",
        "sub_title": "",
        "mutually_exclusive": True,
        "collateral_return_type": "MECNET",
        "strike_date": "2025-03-01T04:59:00Z",
    }


def market(ticker: str, event_ticker: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "ticker": ticker,
        "event_ticker": event_ticker,
        "market_type": "binary",
        "subtitle": "44° to 45°",
        "yes_sub_title": "44° to 45°",
        "status": "active",
        "open_time": "2025-02-27T15:00:00Z",
        "close_time": "2025-03-01T04:59:00Z",
        "strike_type": "between",
        "floor_strike": 44,
        "cap_strike": 45,
        "yes_bid": 41,
        "yes_ask": 43,
        "last_price": 42,
        "volume": 120,
        "result": "",
        "expiration_value": "",
    }
    base.update(fields)
    return base


def trade(n: int, ticker: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "trade_id": f"00000000-0000-4000-8000-{n:012d}",
        "ticker": ticker,
        "count": 5,
        "created_time": f"2025-02-28T15:{n % 60:02d}:07.25Z",
        "yes_price": 42,
        "no_price": 58,
        "taker_side": "yes",
    }
    base.update(fields)
    return base


def write_jsonl(path: Path, rows: list[dict[str, object]], *, gz: bool = False, compact: bool = False) -> Path:
    """JSON Lines; ``compact`` writes Kalshi's own form (no spaces), which the tape's fast path reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    separators = (",", ":") if compact else (", ", ": ")
    text = "".join(json.dumps(row, separators=separators) + "\n" for row in rows).encode()
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """One event with three brackets and a small tape, laid out like ../shared/data."""
    kalshi = tmp_path / "kalshi"
    write_jsonl(kalshi / "events" / "KXHIGHNY.jsonl", [event("KXHIGHNY-25FEB28")])
    write_jsonl(
        kalshi / "markets" / "KXHIGHNY.jsonl",
        [
            market(
                "KXHIGHNY-25FEB28-T44",
                "KXHIGHNY-25FEB28",
                strike_type="less",
                floor_strike=None,
                cap_strike=44,
                subtitle="43° or below",
            ),
            market("KXHIGHNY-25FEB28-B44.5", "KXHIGHNY-25FEB28"),
            # No strikes in the payload: the bracket comes from the subtitle.
            market(
                "KXHIGHNY-25FEB28-T45",
                "KXHIGHNY-25FEB28",
                strike_type=None,
                floor_strike=None,
                cap_strike=None,
                subtitle="46° or above",
            ),
        ],
    )
    write_jsonl(
        kalshi / "trades" / "KXHIGHNY.jsonl.gz",
        [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in range(1, 6)]
        + [
            trade(
                6,
                "KXHIGHNY-25FEB28-T45",
                yes_price_dollars="0.0350",
                no_price_dollars="0.9650",
                yes_price=None,
                no_price=None,
                count_fp="2.50",
                count=None,
            )
        ],
        gz=True,
    )
    (tmp_path / "README.md").write_text("not data")
    return tmp_path


def test_it_imports_events_markets_and_trades(history):
    report = import_kalshi_history(history, now=NOW)
    assert {k: (v.files, v.read, v.created) for k, v in report.kinds.items() if v.files} == {
        "events": (1, 1, 1),
        "markets": (1, 3, 3),
        "trades": (1, 6, 6),
    }
    assert report.skipped == [(history / "README.md", "not a Kalshi history file")]
    series = Series.objects.get()
    assert series.city is not None
    assert (series.ticker, series.city.name, series.measure) == ("KXHIGHNY", "New York", "high")
    assert Event.objects.get().target_date == date(2025, 2, 28)

    between = Market.objects.get(ticker="KXHIGHNY-25FEB28-B44.5")
    assert (between.floor_strike, between.cap_strike, between.yes_bid, between.last_price) == (
        Decimal(44),
        Decimal(45),
        Decimal("0.41"),
        Decimal("0.42"),
    )
    assert between.synced_at == NOW
    assert Market.objects.get(ticker="KXHIGHNY-25FEB28-T45").strike_type == ""

    first = Trade.objects.get(trade_id="00000000-0000-4000-8000-000000000001")
    assert (first.count, first.yes_price, first.no_price) == (Decimal(5), Decimal("0.42"), Decimal("0.58"))
    assert first.created_time == datetime(2025, 2, 28, 15, 1, 7, 250000, tzinfo=UTC)
    fixed_point = Trade.objects.get(trade_id="00000000-0000-4000-8000-000000000006")
    assert (fixed_point.count, fixed_point.yes_price) == (Decimal("2.50"), Decimal("0.035"))


def test_a_second_import_adds_nothing(history):
    import_kalshi_history(history, now=NOW)
    again = import_kalshi_history(history, now=NOW)
    assert all(kind.created == kind.updated == 0 for kind in again.kinds.values())
    assert again.kinds["trades"].unchanged == 6
    assert (Market.objects.count(), Trade.objects.count()) == (3, 6)


def test_a_later_import_fills_in_the_result_and_an_older_one_cannot_erase_it(history):
    import_kalshi_history(history, now=NOW)
    markets_file = history / "kalshi" / "markets" / "KXHIGHNY.jsonl"
    original = markets_file.read_text()
    settled = [json.loads(line) for line in original.splitlines()]
    for row in settled:
        row.update(
            status="finalized", result="yes" if row["ticker"].endswith("B44.5") else "no", expiration_value="45.00"
        )
    write_jsonl(markets_file, settled)
    report = import_kalshi_history(history, now=NOW)
    assert report.kinds["markets"].updated == 3
    won = Market.objects.get(ticker="KXHIGHNY-25FEB28-B44.5")
    assert (won.result, won.status, won.expiration_value) == ("yes", "finalized", "45.00")

    markets_file.write_text(original)  # the older download again
    import_kalshi_history(history, now=NOW)
    won.refresh_from_db()
    assert (won.result, won.status, won.expiration_value) == ("yes", "finalized", "45.00")


def test_a_corrupt_trade_line_names_file_and_line_and_keeps_earlier_rows(history):
    lines = [json.dumps(trade(n, "KXHIGHNY-25FEB28-B44.5")) for n in range(1, 5)]
    lines[2] = lines[2][:40]  # cut off mid-object
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(MalformedLine) as excinfo:
        import_kalshi_history(history, now=NOW)
    assert str(excinfo.value).startswith(f"{path}:3: not valid JSON")
    assert Trade.objects.count() == 2
    assert Market.objects.count() == 3  # the earlier files stay imported too


def test_a_truncated_gzip_tape_fails_where_it_breaks(history):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    rows = "".join(json.dumps(trade(n, "KXHIGHNY-25FEB28-B44.5")) + "\n" for n in range(1, 2001)).encode()
    compressed = gzip.compress(rows)
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(MalformedLine, match="truncated or corrupt") as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line is not None and excinfo.value.line > 1
    assert Trade.objects.count() == excinfo.value.line - 1 or Trade.objects.count() > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"yes_price": 42, "no_price": 57}, "must lie inside (0, 1) and sum to 1"),
        ({"created_time": "2025-02-30T15:00:00Z"}, "is not an RFC 3339 timestamp"),
        ({"created_time": "yesterday"}, "is not an RFC 3339 timestamp"),
        ({"taker_side": "maybe"}, "taker_side 'maybe'"),
        ({"count": 0}, "not positive"),
        ({"trade_id": "has\ttab"}, "trade_id"),
    ],
)
@pytest.mark.parametrize("compact", [False, True], ids=["spaced", "kalshi-form"])
def test_bad_prints_are_rejected_with_a_reason(history, change, message, compact):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    rows = [trade(1, "KXHIGHNY-25FEB28-B44.5"), trade(2, "KXHIGHNY-25FEB28-B44.5", **change)]
    write_jsonl(path, rows, gz=True, compact=compact)
    with pytest.raises(MalformedLine) as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line == 2
    assert message in excinfo.value.reason
    assert list(Trade.objects.values_list("trade_id", flat=True)) == ["00000000-0000-4000-8000-000000000001"]


def test_an_unreadable_subtitle_is_an_error_not_a_guess(history):
    path = history / "kalshi" / "markets" / "KXHIGHNY.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[2]["subtitle"] = rows[2]["yes_sub_title"] = "warm-ish"
    write_jsonl(path, rows)
    with pytest.raises(MalformedLine, match="cannot read a temperature bracket from subtitle 'warm-ish'") as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line == 3


def test_trades_of_unknown_markets_are_reported_not_fatal(history):
    write_jsonl(
        history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz",
        [trade(1, "KXHIGHNY-25FEB28-B44.5"), trade(2, "KXHIGHNY-25MAR01-B50.5")],
        gz=True,
    )
    report = import_kalshi_history(history, now=NOW)
    assert Trade.objects.count() == 1
    assert "1 trades of markets that are not imported" in report.notes[0]
    assert "KXHIGHNY-25MAR01-B50.5" in report.notes[0]


def test_markets_without_their_events_file_create_events_of_the_files_series(history):
    (history / "kalshi" / "events" / "KXHIGHNY.jsonl").unlink()
    import_kalshi_history(history, now=NOW)
    created = Event.objects.get()
    assert (created.event_ticker, created.series.ticker, created.target_date) == (
        "KXHIGHNY-25FEB28",
        "KXHIGHNY",
        date(2025, 2, 28),
    )


SETTLED_HEADER = (
    "ticker,series_ticker,city,occurrence_date,market_open_time,market_close_time,strike_F,"
    "observed_high_F,outcome,mid_price_at_T,n_trades_in_window,volume_in_window\n"
)


def test_settled_tables_add_old_markets_and_only_fill_blanks(history):
    import_kalshi_history(history, now=NOW)
    (history / "kalshi" / "settled").mkdir(parents=True)
    (history / "kalshi" / "settled" / "KXHIGHNY.csv").write_text(
        SETTLED_HEADER
        # Already imported, still open: fills the result in.
        + "KXHIGHNY-25FEB28-B44.5,KXHIGHNY,NY,2025-02-28,2025-02-27T15:00:00Z,2025-03-01T04:59:00Z,"
        + "44.0,45.0,1,0.9,3,10\n"
        # A 2021 market no markets file has: created with what the table knows.
        + "HIGHNY-21AUG06-T86,KXHIGHNY,NY,2021-08-06,2021-08-05T15:15:00Z,2021-08-07T03:59:00Z,,88.0,1,0.6,19,581\n"
    )
    report = import_kalshi_history(history, now=NOW)
    assert (report.kinds["settled"].created, report.kinds["settled"].updated) == (1, 1)
    filled = Market.objects.get(ticker="KXHIGHNY-25FEB28-B44.5")
    assert (filled.result, filled.expiration_value, filled.yes_bid) == ("yes", "45.00", Decimal("0.41"))
    old = Market.objects.get(ticker="HIGHNY-21AUG06-T86")
    assert (old.result, old.expiration_value, old.event.target_date, old.event.series.ticker) == (
        "yes",
        "88.00",
        date(2021, 8, 6),
        "KXHIGHNY",
    )


def test_a_settled_table_never_overrides_kalshis_own_values(history):
    path = history / "kalshi" / "markets" / "KXHIGHNY.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1].update(status="finalized", result="yes", expiration_value="45.00")
    write_jsonl(path, rows)
    (history / "kalshi" / "settled").mkdir(parents=True)
    (history / "kalshi" / "settled" / "KXHIGHNY.csv").write_text(
        SETTLED_HEADER
        + "KXHIGHNY-25FEB28-B44.5,KXHIGHNY,NY,2025-02-28,2025-02-27T15:00:00Z,2025-03-01T04:59:00Z,"
        + "44.0,47.0,0,0.1,3,10\n"
    )
    report = import_kalshi_history(history, now=NOW)
    kept = Market.objects.get(ticker="KXHIGHNY-25FEB28-B44.5")
    assert (kept.result, kept.expiration_value) == ("yes", "45.00")
    assert "values disagree with Kalshi's market objects and were not applied" in report.notes[0]


def test_a_settled_row_whose_date_contradicts_its_ticker_is_an_error(history):
    (history / "kalshi" / "settled").mkdir(parents=True)
    path = history / "kalshi" / "settled" / "KXHIGHNY.csv"
    path.write_text(
        SETTLED_HEADER
        + "HIGHNY-21AUG06-T86,KXHIGHNY,NY,2021-08-07,2021-08-05T15:15:00Z,2021-08-07T03:59:00Z,,88.0,1,0.6,19,581\n"
    )
    with pytest.raises(MalformedLine, match="occurrence_date 2021-08-07 disagrees") as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line == 2


LCSWNN_MARKETS_HEADER = (
    "ticker,title,subtitle,event_ticker,close_time,expiration_time,result,last_price,volume,yes_bid,yes_ask\n"
)


def test_an_lcswnn_event_ticker_without_a_date_names_the_file(history):
    path = history / "kalshi" / "settled" / "lcswnn-markets" / "KXHIGHNY.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        LCSWNN_MARKETS_HEADER
        + "HIGHNY-21AUG06-T86,Will the high in NYC be over 86°?,>86°,HIGHNY-21AUG06,"
        + "2021-08-07T03:59:00Z,2021-08-07T14:00:00Z,yes,99,581,99,100\n"
        + "HIGHNY-21AUG07-T86,Will the high in NYC be over 86°?,>86°,NOTADATE,"
        + "2021-08-08T03:59:00Z,2021-08-08T14:00:00Z,no,1,200,1,2\n"
    )
    with pytest.raises(MalformedLine, match="'NOTADATE' does not end in a YYMONDD date") as excinfo:
        import_kalshi_history(history, now=NOW)
    assert str(excinfo.value).startswith(f"{path}: ")
    # The batch's events are all checked before any is created: the good row's event is not left behind.
    assert not Event.objects.filter(event_ticker="HIGHNY-21AUG06").exists()
    with pytest.raises(CommandError, match=re.escape(f"{path}: event ticker 'NOTADATE'")) as failed:
        call_command("importhistory", str(history))
    assert "the batch of up to 2,000 rows holding the problem was not" in str(failed.value)


def test_missing_events_are_created_together_with_their_keys():
    created = ensure_events({"KXHIGHNY-25FEB28", "KXHIGHNY-25MAR01"}, series_ticker="KXHIGHNY")
    assert {ticker: (event.pk, event.target_date) for ticker, event in created.items()} == {
        event.event_ticker: (event.pk, event.target_date) for event in Event.objects.all()
    }
    assert ensure_events({"KXHIGHNY-25FEB28"}, series_ticker=None)["KXHIGHNY-25FEB28"] == created["KXHIGHNY-25FEB28"]
    with pytest.raises(RowProblem, match="'KXHIGHNY-25FEB30' names an impossible date"):
        ensure_events({"KXHIGHNY-25FEB27", "KXHIGHNY-25FEB30"}, series_ticker="KXHIGHNY")
    assert Event.objects.count() == 2  # 25FEB27 sorts first, yet is not created before 25FEB30 fails


def test_what_a_tape_import_holds_is_bounded_whatever_the_file_size(history, monkeypatch):
    held: list[int] = []
    real = tape_store.TapeWriter.flush

    def recording(writer):
        held.append(len(writer._batch))
        return real(writer)

    monkeypatch.setattr(tape_store.TapeWriter, "flush", recording)
    path = write_jsonl(
        history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz",
        [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in range(1, 26)],
        gz=True,
    )
    import_kalshi_history(history, now=NOW)
    market_ids = dict(Market.objects.values_list("ticker", "id"))
    Trade.objects.all().delete()
    held.clear()
    assert tape.import_tape(path, market_ids, batch_size=10).inserted == 25
    # PostgreSQL streams a new tape into one COPY and holds none of it; SQLite writes batches.
    assert held == ([0] if connection.vendor == "postgresql" else [10, 10, 5])
    held.clear()
    assert tape.import_tape(path, market_ids, batch_size=10).inserted == 0
    # Stored already: PostgreSQL's COPY stops at the first print (holding nothing), then batches.
    assert held == ([0, 10, 10, 5] if connection.vendor == "postgresql" else [10, 10, 5])
    assert Trade.objects.count() == 25


def test_the_command_prints_counts_and_skipped_files(history, capsys):
    call_command("importhistory", str(history))
    out = capsys.readouterr().out
    assert "trades" in out and "6" in out
    assert "README.md: not recognised by any importer" in out


def summary(root: Path) -> str:
    """What the command prints on stdout for the ``history`` folder with one ACIS file added."""
    return (
        f"Imported from {root}:\n"
        "  kind                   files        read         new   updated   unchanged\n"
        "  events                     1           1           1         0           0\n"
        "  markets                    1           3           3         0           0\n"
        "  trades                     1           6           6         0           0\n"
        "  acis                       1           1           1         0           0\n"
        "Skipped 1 file(s):\n"
        "  README.md: not recognised by any importer\n"
    )


def with_acis_file(history: Path) -> Path:
    path = history / "observations" / "acis" / "KNYC.csv"
    path.parent.mkdir(parents=True)
    path.write_text("date,station,element,value_f\n2025-02-21,KNYC,TMAX,35\n")
    return history


def test_the_command_draws_a_finished_bar_per_kind_of_file_on_stderr(history):
    out, err = io.StringIO(), io.StringIO()
    call_command("importhistory", str(with_acis_file(history)), stdout=out, stderr=err)
    assert out.getvalue() == summary(history)
    drawn = err.getvalue()
    for kind, path in [
        ("events", "kalshi/events/KXHIGHNY.jsonl"),
        ("markets", "kalshi/markets/KXHIGHNY.jsonl"),
        ("trades", "kalshi/trades/KXHIGHNY.jsonl.gz"),
        ("acis", "observations/acis/KNYC.csv"),
    ]:
        kilobytes = math.ceil((history / path).stat().st_size / 1000)
        assert re.search(rf"^{kind} \(1 file, kB\) +━+ {kilobytes}/{kilobytes} ", drawn, re.MULTILINE), drawn


def test_the_command_draws_nothing_at_verbosity_0(history):
    out, err = io.StringIO(), io.StringIO()
    call_command("importhistory", str(with_acis_file(history)), verbosity=0, stdout=out, stderr=err)
    assert out.getvalue() == summary(history)
    assert err.getvalue() == ""


def test_the_command_fails_with_file_and_line_below_the_closed_bar(history):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    write_jsonl(path, [trade(1, "KXHIGHNY-25FEB28-B44.5"), {"trade_id": "x"}], gz=True)
    err = io.StringIO()
    with pytest.raises(CommandError, match=rf"{path}:2: trade x: ticker is missing"):
        call_command("importhistory", str(history), stdout=io.StringIO(), stderr=err)
    # Off a terminal, rich writes the bars once, when they are closed: the stages up to the bad file.
    assert re.findall(r"^(\w+) \(1 file, kB\)", err.getvalue(), re.MULTILINE) == ["events", "markets", "trades"]


def test_the_command_rejects_a_missing_directory(tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("importhistory", str(tmp_path / "nope"))


def test_a_value_longer_than_its_column_is_refused_on_every_database(history):
    path = history / "kalshi" / "markets" / "KXHIGHNY.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["ticker"] = "KXHIGHNY-25FEB28-B" + "4" * 60
    write_jsonl(path, rows)
    with pytest.raises(MalformedLine, match="ticker is 78 characters, longer than the 64 allowed") as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line == 2


def test_free_text_settlement_values_are_kept(history):
    path = history / "kalshi" / "markets" / "KXHIGHNY.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    explanation = "84. The climate report was not finalized; Kalshi used the NWS hourly data. " * 4
    rows[1].update(status="finalized", result="yes", expiration_value=explanation)
    write_jsonl(path, rows)
    import_kalshi_history(history, now=NOW)
    assert Market.objects.get(ticker="KXHIGHNY-25FEB28-B44.5").expiration_value == explanation


@settings(max_examples=300, deadline=None)
@given(
    trade_id=st.from_regex(r"[0-9A-Za-z._:-]{1,64}", fullmatch=True),
    count=st.integers(-5, 10**9 + 5),
    yes=st.integers(-1, 101),
    no=st.integers(-1, 101),
    clock=st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)),
    day=st.sampled_from(["2025-02-28", "2024-02-29", "2025-02-29", "2025-13-01", "2025-04-31"]),
    fraction=st.sampled_from(["", ".5", ".000000", ".123456", ".1234567", ".250"]),
    side=st.sampled_from(["yes", "no", "maybe"]),
)
def test_the_fast_path_reads_exactly_what_the_general_path_reads(trade_id, count, yes, no, clock, day, fraction, side):
    """Lines in Kalshi's own form skip the JSON parser; they must give the same row, or fall back."""
    hours, minutes, seconds = clock
    data = {
        "trade_id": trade_id,
        "ticker": "KXHIGHNY-25FEB28-B44.5",
        "count": count,
        "created_time": f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}{fraction}Z",
        "yes_price": yes,
        "no_price": no,
        "taker_side": side,
    }
    market_ids = {"KXHIGHNY-25FEB28-B44.5": 7}
    try:
        general = tape.trade_row(data, market_ids)
    except tape.RowError:
        general = None
    line = json.dumps(data, separators=(",", ":")).encode() + b"\n"
    for copy_text in (False, True):
        fast = fast_path_only(line, market_ids, copy_text=copy_text)
        if fast is None:
            continue  # the general path decides
        assert general is not None  # every error is the general path's to report
        if not copy_text:
            assert fast == [general]
            continue
        assert [copy_columns(line) for line in fast] == [copy_columns(tape_store.copy_line(general))]


def copy_columns(line: bytes) -> list[object]:
    """A COPY line's columns, the time as a datetime (the fast path keeps Kalshi's digits of it)."""
    *columns, created = line.decode().removesuffix("\n").split("\t")
    return [*columns, datetime.fromisoformat(created)]


class _NotFast(Exception):
    pass


def fast_path_only(line: bytes, market_ids: dict[str, int], *, copy_text: bool) -> list | None:
    """What the fast path reads from a line, or None where it hands the line to the general path."""
    with patch.object(tape, "_read_general", side_effect=_NotFast):
        try:
            return tape.read_lines(Path("t.jsonl"), 1, line, market_ids, copy_text=copy_text)
        except _NotFast:
            return None


def test_tapes_in_kalshis_own_form_take_the_fast_path():
    market_ids = {"KXHIGHNY-25FEB28-B44.5": 7}
    lines = b"".join(
        json.dumps(trade(n, "KXHIGHNY-25FEB28-B44.5"), separators=(",", ":")).encode() + b"\n" for n in (1, 2)
    )
    rows = fast_path_only(lines, market_ids, copy_text=False)
    assert rows is not None and [row[0] for row in rows] == [trade(n, "X")["trade_id"] for n in (1, 2)]
    copy_lines = fast_path_only(lines, market_ids, copy_text=True)
    assert copy_lines is not None
    assert [copy_columns(line) for line in copy_lines] == [copy_columns(tape_store.copy_line(row)) for row in rows]


def test_a_tape_that_partly_overlaps_what_is_stored_adds_only_the_new_prints(history):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    write_jsonl(path, [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in range(1, 8)], gz=True, compact=True)
    import_kalshi_history(history, now=NOW)
    assert Trade.objects.count() == 7
    # Batches that start with a new print and then meet a stored one (on PostgreSQL the COPY
    # fails and the batch is redone with ON CONFLICT), batches that start stored, all-new ones.
    order = [8, 1, 9, 2, 3, 10, 4, 11, 5, 6, 7, 12, *range(13, 20)]
    write_jsonl(path, [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in order], gz=True, compact=True)
    market_ids = dict(Market.objects.values_list("ticker", "id"))
    result = tape.import_tape(path, market_ids, batch_size=4)
    assert (result.read, result.inserted) == (19, 12)
    assert Trade.objects.count() == 19
    again = tape.import_tape(path, market_ids, batch_size=4)
    assert again.inserted == 0 and Trade.objects.count() == 19


def test_a_bad_line_after_stored_prints_still_keeps_the_new_prints_before_it(history):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    write_jsonl(path, [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in (1, 2)], gz=True, compact=True)
    import_kalshi_history(history, now=NOW)
    # New first (PostgreSQL streams it), then a stored print, another new one, then a bad line.
    rows = [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in (3, 1, 4)] + [trade(5, "KXHIGHNY-25FEB28-B44.5", count=0)]
    write_jsonl(path, rows, gz=True, compact=True)
    market_ids = dict(Market.objects.values_list("ticker", "id"))
    with pytest.raises(MalformedLine) as caught:
        tape.import_tape(path, market_ids, batch_size=2)
    assert caught.value.line == 4
    assert sorted(Trade.objects.values_list("trade_id", flat=True)) == [trade(n, "X")["trade_id"] for n in (1, 2, 3, 4)]


def test_the_reader_follows_concatenated_gzip_members_and_refuses_trailing_garbage(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n') + gzip.compress(b'{"a": 2}\n{"a": 3}'))
    assert [n for n, _ in json_objects(path)] == [1, 2, 3]
    path.write_bytes(gzip.compress(b'{"a": 1}\n') + b"not gzip")
    with pytest.raises(MalformedLine, match="truncated or corrupt"):
        list(json_objects(path))


class Recorded:
    """A Progress that keeps what it is told."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float | None]] = []
        self.advances: list[float] = []

    def stage(self, description: str, total: float | None = None) -> None:
        self.stages.append((description, total))

    def advance(self, amount: float = 1) -> None:
        self.advances.append(amount)


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz"])
def test_csv_rows_advance_progress_by_the_kilobytes_on_disk_a_buffer_at_a_time(tmp_path, name):
    rows = 20_000
    text = "a,b\n" + "".join(f"{n},{n * 7 % 1000}\n" for n in range(rows))
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    progress = Recorded()
    assert sum(1 for _ in csv_rows(path, expected=("a", "b"), progress=progress)) == rows
    assert sum(progress.advances) == pytest.approx(path.stat().st_size / 1000)
    assert len(progress.advances) <= path.stat().st_size // 8192 + 1  # per buffer refill, never per row


def test_json_lines_advance_progress_by_the_kilobytes_on_disk_a_block_at_a_time(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"n": n, "pad": "x" * 100} for n in range(20_000)])
    progress = Recorded()
    assert sum(1 for _ in json_objects(path, progress)) == 20_000
    assert sum(progress.advances) == pytest.approx(path.stat().st_size / 1000)
    assert len(progress.advances) == math.ceil(path.stat().st_size / readers.BLOCK)


def test_a_stage_of_files_totals_their_kilobytes_on_disk_as_a_whole_number(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv.gz"]
    paths[0].write_bytes(b"x" * 1500)
    paths[1].write_bytes(b"y" * 10)
    progress = Recorded()
    stage_files(progress, "acis", paths)
    stage_files(progress, "ghcnd", paths[:1])
    assert progress.stages == [("acis (2 files, kB)", 2), ("ghcnd (1 file, kB)", 2)]


def test_a_tape_read_twice_moves_progress_on_once(history):
    path = history / "kalshi" / "trades" / "KXHIGHNY.jsonl.gz"
    write_jsonl(path, [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in range(1, 4)], gz=True, compact=True)
    import_kalshi_history(history, now=NOW)
    # Stored and new prints: PostgreSQL's COPY meets a stored one, and the tape is read again.
    write_jsonl(path, [trade(n, "KXHIGHNY-25FEB28-B44.5") for n in range(1, 7)], gz=True, compact=True)
    progress = Recorded()
    result = tape.import_tape(path, dict(Market.objects.values_list("ticker", "id")), progress=progress)
    assert result.inserted == 3
    assert sum(progress.advances) == pytest.approx(path.stat().st_size / 1000)


def test_furthest_read_passes_on_only_what_no_earlier_reading_reached():
    progress = Recorded()
    furthest = tape.FurthestRead(progress)
    furthest.advance(3)
    furthest.advance(2)
    furthest.rewind()
    furthest.advance(4)
    furthest.advance(3)
    assert progress.advances == [3, 2, 2]


def test_a_bad_catalog_line_keeps_the_good_lines_before_it_in_its_batch(history):
    # The good rows before a bad line share its batch of 2,000: they must be stored, as the command says.
    path = history / "kalshi" / "events" / "KXHIGHNY.jsonl"
    rows = [event(f"KXHIGHNY-25MAR{day:02d}") for day in range(1, 6)]
    rows.append({"event_ticker": "KXHIGHNY-25MAR06"})  # no series: cannot be imported
    rows.append(event("KXHIGHNY-25MAR07"))
    write_jsonl(path, rows)
    with pytest.raises(MalformedLine) as excinfo:
        import_kalshi_history(history, now=NOW)
    assert excinfo.value.line == 6
    stored = set(Event.objects.values_list("event_ticker", flat=True))
    assert {f"KXHIGHNY-25MAR{day:02d}" for day in range(1, 6)} <= stored
    assert "KXHIGHNY-25MAR07" not in stored
    with pytest.raises(CommandError, match="Everything before this line was imported"):
        call_command("importhistory", str(history))
