"""Market sync against a fake exchange: what is created, updated, kept and reported."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from markets.client import RetryPolicy
from markets.errors import ExchangeUnavailable
from markets.models import Event, Market, Series
from markets.services.sync import active_series_tickers, sync_markets
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import FakeExchange, error, make_client, paginated
from markets.tests.kalshi_payloads import DROP
from weather.models import City

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)
EVENT = "KXHIGHNY-26MAR02"


def market(suffix: str, *, event: str = EVENT, **fields: object) -> dict[str, object]:
    return payloads.market(ticker=f"{event}-{suffix}", event_ticker=event, **fields)


def ladder(event: str = EVENT, **fields: object) -> list[dict[str, object]]:
    """Three brackets of one climate day: a low tail, a 2-degree bracket and a high tail."""
    return [
        market("T40", event=event, strike_type="less", floor_strike=DROP, cap_strike=40, **fields),
        market("B44.5", event=event, **fields),
        market("T49", event=event, strike_type="greater", floor_strike=49, cap_strike=DROP, **fields),
    ]


def event(ticker: str = EVENT, markets: list[dict[str, object]] | None = None, **fields: object) -> dict[str, object]:
    series = ticker.split("-")[0]
    return payloads.event(
        event_ticker=ticker, series_ticker=series, markets=ladder(ticker) if markets is None else markets, **fields
    )


def events_exchange(*events: dict[str, object], per_page: int = 200) -> FakeExchange:
    return FakeExchange().on(
        "GET", "/events", paginated("events", list(events), per_page=per_page, match_on=("series_ticker",))
    )


def sync(exchange: FakeExchange, *, now: datetime = NOW, series=("KXHIGHNY",), page_size: int = 500, **kwargs):
    with make_client(exchange, page_size=page_size, retry=RetryPolicy(attempts=1)) as client:
        return sync_markets(client=client, now=now, series_tickers=series, **kwargs)


def test_it_syncs_the_series_of_active_cities_by_default():
    exchange = events_exchange(event())
    report = sync(exchange, series=None)
    active = City.objects.active()
    expected = sorted(t for c in active for t in (c.high_series_ticker, c.low_series_ticker) if t)
    assert list(report.series) == expected == active_series_tickers()
    assert "KXHIGHTDAL" not in report.series  # inactive city
    asked = [r.url.params["series_ticker"] for r in exchange.requests]
    assert asked == expected
    assert exchange.params(0)["min_close_ts"] == [str(int((NOW - timedelta(days=3)).timestamp()))]
    assert exchange.params(0)["with_nested_markets"] == ["true"]
    counts = report.series["KXHIGHNY"]
    assert (counts.events.created, counts.markets.created, counts.errors) == (1, 3, [])
    assert report.series["KXHIGHCHI"].markets.created == 0


def test_it_creates_events_and_markets_from_the_api():
    sync(events_exchange(event()))
    stored = Event.objects.get(event_ticker=EVENT)
    assert (stored.series.ticker, stored.target_date, stored.synced_at) == ("KXHIGHNY", date(2026, 3, 2), NOW)
    assert stored.title == "Highest temperature in NYC on Mar 2, 2026?"
    assert stored.series.city == City.objects.get(name="New York")
    assert stored.series.measure == Series.Measure.HIGH
    bracket = Market.objects.get(ticker=f"{EVENT}-B44.5")
    assert (bracket.floor_strike, bracket.cap_strike, bracket.status) == (Decimal(44), Decimal(45), "active")
    assert (bracket.yes_bid, bracket.yes_ask, bracket.synced_at) == (Decimal("0.31"), Decimal("0.33"), NOW)
    assert Market.objects.get(ticker=f"{EVENT}-T40").strike_type == "less"


def test_it_updates_prices_and_fills_in_results_without_ever_regressing_them():
    sync(events_exchange(event()))
    later = NOW + timedelta(hours=1)
    report = sync(events_exchange(event(markets=ladder(yes_bid_dollars="0.5000"))), now=later)
    assert (report.series["KXHIGHNY"].markets.updated, report.series["KXHIGHNY"].events.unchanged) == (3, 1)
    assert Market.objects.get(ticker=f"{EVENT}-B44.5").yes_bid == Decimal("0.50")

    settled = {
        "status": "finalized",
        "result": "no",
        "expiration_value": "47.00",
        "settlement_value_dollars": "0.0000",
        "settlement_ts": "2026-03-03T15:30:00Z",
    }
    sync(events_exchange(event(markets=ladder(**settled))), now=later + timedelta(days=1))
    done = Market.objects.get(ticker=f"{EVENT}-B44.5")
    assert (done.status, done.result, done.expiration_value, done.settlement_value) == (
        "finalized",
        "no",
        "47.00",
        Decimal(0),
    )

    # A stale answer (a cache, a replica behind) must not undo the outcome.
    sync(events_exchange(event()), now=later + timedelta(days=2))
    kept = Market.objects.get(ticker=f"{EVENT}-B44.5")
    assert (kept.status, kept.result, kept.expiration_value) == ("finalized", "no", "47.00")


def test_unchanged_rows_are_still_marked_as_synced():
    sync(events_exchange(event()))
    later = NOW + timedelta(minutes=5)
    report = sync(events_exchange(event()), now=later)
    assert (report.series["KXHIGHNY"].markets.unchanged, report.series["KXHIGHNY"].markets.updated) == (3, 0)
    assert set(Market.objects.values_list("synced_at", flat=True)) == {later}
    assert Event.objects.get(event_ticker=EVENT).synced_at == later


def test_a_market_without_a_readable_bracket_is_reported_not_stored():
    odd = market("X1", strike_type=DROP, floor_strike=DROP, cap_strike=DROP, yes_sub_title="warm-ish")
    report = sync(events_exchange(event(markets=[*ladder(), odd])))
    assert report.errors == [
        f"KXHIGHNY: {EVENT}-X1: cannot read a temperature bracket from subtitle 'warm-ish'",
    ]
    assert not Market.objects.filter(ticker=f"{EVENT}-X1").exists()
    assert Market.objects.filter(event__event_ticker=EVENT).count() == 3


def test_an_event_whose_ticker_has_no_date_is_reported_with_its_markets_left_out():
    report = sync(events_exchange(event("KXHIGHNY-SPECIAL", markets=[])))
    assert report.series["KXHIGHNY"].errors == ["event ticker 'KXHIGHNY-SPECIAL' does not end in a YYMONDD date"]
    assert not Event.objects.exists()


def test_it_follows_cursors_across_pages():
    days = [event(f"KXHIGHNY-26MAR{day:02d}") for day in (1, 2, 3)]
    exchange = events_exchange(*days, per_page=1)
    report = sync(exchange, page_size=1)
    assert [r.url.params.get("cursor") for r in exchange.requests] == [None, "1", "2"]
    assert (report.series["KXHIGHNY"].events.created, report.series["KXHIGHNY"].markets.created) == (3, 9)


def test_an_unreadable_answer_for_one_series_is_reported_and_the_others_sync():
    good = paginated("events", [event()], per_page=200, match_on=("series_ticker",))

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["series_ticker"] == "KXHIGHCHI":
            return httpx.Response(200, json={"events": [{"title": "no ticker"}], "cursor": ""})
        return good(request)

    report = sync(FakeExchange().on("GET", "/events", answer), series=["KXHIGHCHI", "KXHIGHNY"])
    assert len(report.series["KXHIGHCHI"].errors) == 1
    assert "event_ticker" in report.series["KXHIGHCHI"].errors[0]
    assert report.series["KXHIGHNY"].markets.created == 3


def test_an_exchange_outage_is_raised_for_the_caller_to_retry():
    with pytest.raises(ExchangeUnavailable):
        sync(FakeExchange().on("GET", "/events", error(503)))
