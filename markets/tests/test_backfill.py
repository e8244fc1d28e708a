"""History backfill against recorded-style answers: the cutoff split, paging, idempotence, streaming."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from markets.client import RetryPolicy
from markets.models import Event, Market, Trade
from markets.services import backfill as backfill_module
from markets.services.backfill import backfill_history
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import FakeExchange, make_client, paginated
from markets.tests.kalshi_payloads import DROP

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
START, END = date(2026, 2, 26), date(2026, 3, 2)
# Markets settled and trades made before 2026-03-01 00:00Z are archived.
CUTOFF = payloads.historical_cutoff()

# Climate day → (open, close) of its markets; Feb 28 and Mar 1 open before the trade cutoff and close after it.
DAYS = {
    "25": ("2026-02-24T15:00:00Z", "2026-02-26T04:59:00Z"),
    "26": ("2026-02-25T15:00:00Z", "2026-02-27T04:59:00Z"),
    "27": ("2026-02-26T15:00:00Z", "2026-02-28T04:59:00Z"),
    "28": ("2026-02-27T15:00:00Z", "2026-03-01T04:59:00Z"),
}
LIVE_DAYS = {
    "MAR01": ("2026-02-28T15:00:00Z", "2026-03-02T04:59:00Z"),
    "MAR02": ("2026-03-01T15:00:00Z", "2026-03-03T04:59:00Z"),
    "MAR03": ("2026-03-02T15:00:00Z", "2026-03-04T04:59:00Z"),
}


def event_ticker(day: str) -> str:
    return f"KXHIGHNY-26{day if day.startswith('MAR') else 'FEB' + day}"


def markets_of(day: str, times: tuple[str, str], **fields: object) -> list[dict[str, object]]:
    event = event_ticker(day)
    open_time, close_time = times
    common = {"event_ticker": event, "open_time": open_time, "close_time": close_time, **fields}
    return [
        payloads.market(ticker=f"{event}-B44.5", **common),
        payloads.market(ticker=f"{event}-T40", strike_type="less", floor_strike=DROP, cap_strike=40, **common),
    ]


def settled(day: str) -> list[dict[str, object]]:
    return markets_of(day, DAYS[day], status="finalized", result="no", expiration_value="47.00")


ARCHIVED = [m for day in DAYS if day != "28" for m in settled(day)]
# Feb 28 settled after the market cutoff: still live, nested in its event.
LIVE = {day: markets_of(day, times) for day, times in LIVE_DAYS.items()} | {"28": settled("28")}


def events() -> list[dict[str, object]]:
    """GET /events lists every event, archived or not; only live markets come nested."""
    result = []
    for day in ["25", "26", "27", "28", "MAR01", "MAR02", "MAR03"]:
        ticker = event_ticker(day)
        result.append(payloads.event(event_ticker=ticker, title=f"High in NYC, {ticker}", markets=LIVE.get(day, [])))
    return result


def trades_for(markets: list[dict[str, object]], prefix: str, per_market: int = 3) -> list[dict[str, object]]:
    return [
        payloads.trade(trade_id=f"{prefix}-{m['ticker']}-{n}", ticker=m["ticker"], created_time=m["open_time"])
        for m in markets
        for n in range(per_market)
    ]


ALL_LIVE = [m for day in LIVE.values() for m in day]
HISTORICAL_TRADES = trades_for(ARCHIVED + LIVE["28"], "h")
LIVE_TRADES = trades_for(ALL_LIVE, "l")


def exchange(*, cutoff: dict[str, object] = CUTOFF, per_page: int = 2) -> FakeExchange:
    return (
        FakeExchange()
        .on("GET", "/historical/cutoff", cutoff)
        .on("GET", "/events", paginated("events", events(), per_page=per_page))
        .on("GET", "/historical/markets", paginated("markets", ARCHIVED, per_page=per_page))
        .on(
            "GET", "/historical/trades", paginated("trades", HISTORICAL_TRADES, per_page=per_page, match_on=("ticker",))
        )
        .on("GET", "/markets/trades", paginated("trades", LIVE_TRADES, per_page=per_page, match_on=("ticker",)))
    )


def run(fake: FakeExchange, **kwargs):
    options = {"series_ticker": "KXHIGHNY", "start": START, "end": END, "now": NOW, **kwargs}
    with make_client(fake, page_size=2, retry=RetryPolicy(attempts=1)) as client:
        return backfill_history(client=client, **options)


def tickers_asked(fake: FakeExchange, path: str) -> set[str]:
    return {r.url.params["ticker"] for r in fake.requests if r.url.path.endswith(path)}


def test_it_reads_markets_settled_before_the_cutoff_from_the_historical_endpoints():
    fake = exchange()
    report = run(fake)
    archived = {m["ticker"] for m in ARCHIVED if not str(m["ticker"]).startswith("KXHIGHNY-26FEB25")}
    in_window = archived | {m["ticker"] for day in ("28", "MAR01", "MAR02") for m in LIVE[day]}
    assert set(Market.objects.values_list("ticker", flat=True)) == in_window
    assert (report.archived_markets, report.live_markets, report.markets.created) == (4, 6, 10)
    # Archived markets' trades come from /historical/trades only; Feb 28 and Mar 1 straddle the trade cutoff.
    straddling = {m["ticker"] for day in ("28", "MAR01") for m in LIVE[day]}
    assert tickers_asked(fake, "/historical/trades") == archived | straddling
    assert tickers_asked(fake, "/markets/trades") == {m["ticker"] for d in ("28", "MAR01", "MAR02") for m in LIVE[d]}
    assert (report.trades_read, report.trades_new) == (10 * 3 + 2 * 3, 36)
    assert Trade.objects.count() == 36
    assert report.errors == []


def test_days_outside_the_window_are_skipped():
    run(exchange())
    assert set(Event.objects.values_list("target_date", flat=True)) == {
        date(2026, 2, 26),
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 2),
    }


def test_events_keep_their_metadata_and_archived_markets_their_results():
    run(exchange())
    assert Event.objects.get(event_ticker="KXHIGHNY-26FEB26").title == "High in NYC, KXHIGHNY-26FEB26"
    old = Market.objects.get(ticker="KXHIGHNY-26FEB26-B44.5")
    assert (old.status, old.result, old.expiration_value, old.event.series.ticker) == (
        "finalized",
        "no",
        "47.00",
        "KXHIGHNY",
    )


def test_a_second_backfill_adds_nothing():
    run(exchange())
    counts = (Event.objects.count(), Market.objects.count(), Trade.objects.count())
    report = run(exchange())
    assert (report.events.created, report.markets.created, report.markets.updated, report.trades_new) == (0, 0, 0, 0)
    assert report.trades_read == 36
    assert (Event.objects.count(), Market.objects.count(), Trade.objects.count()) == counts


def test_it_pages_through_every_list():
    fake = exchange(per_page=2)
    run(fake)
    event_pages = [r for r in fake.requests if r.url.path.endswith("/events")]
    assert len(event_pages) == 4  # 7 events, 2 per page
    assert [r.url.params.get("cursor") for r in event_pages] == [None, "2", "4", "6"]
    trade_pages = [r for r in fake.requests if r.url.path.endswith("/historical/trades")]
    # 3 archived prints (2 pages) for each of 6 markets; an empty page each for Mar 1's 2 markets.
    assert len(trade_pages) == 6 * 2 + 2
    assert all(r.url.params["limit"] == "2" for r in fake.requests if "limit" in r.url.params)


def test_history_is_not_asked_for_when_the_window_starts_after_the_cutoff():
    fake = exchange(cutoff=payloads.historical_cutoff(market_settled_ts="2026-02-01T00:00:00Z"))
    report = run(fake)
    assert not any(r.url.path.endswith("/historical/markets") for r in fake.requests)
    assert report.archived_markets == 0
    assert report.live_markets == 6


def test_without_trades_no_tape_is_read():
    fake = exchange()
    report = run(fake, trades=False)
    assert not any("trades" in r.url.path for r in fake.requests)
    assert (report.trades_read, Trade.objects.count(), report.markets.created) == (0, 0, 10)


def test_trades_are_written_in_bounded_batches(monkeypatch):
    sizes: list[int] = []
    real = backfill_module.write_batch

    def recording(rows):
        sizes.append(len(rows))
        return real(rows)

    monkeypatch.setattr(backfill_module, "TRADES_PER_BATCH", 2)
    monkeypatch.setattr(backfill_module, "write_batch", recording)
    report = run(exchange())
    assert max(sizes) == 2
    assert sum(sizes) == report.trades_new == 36


def test_a_malformed_print_is_reported_and_the_rest_are_kept():
    bad = payloads.trade(trade_id="bad id with spaces", ticker="KXHIGHNY-26MAR02-B44.5")
    good = payloads.trade(trade_id="good-1", ticker="KXHIGHNY-26MAR02-B44.5")
    fake = exchange().on("GET", "/markets/trades", paginated("trades", [bad, good], per_page=5, match_on=("ticker",)))
    report = run(fake, start=date(2026, 3, 2), end=date(2026, 3, 2))
    assert report.errors == ["trade_id 'bad id with spaces' is malformed"]
    assert list(Trade.objects.values_list("trade_id", flat=True)) == ["good-1"]


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="start 2026-03-02 is after end 2026-02-26"):
        run(FakeExchange(), start=END, end=START)
