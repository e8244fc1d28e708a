"""manage.py syncmarkets and backfillhistory: printed reports and clear errors, on the fake exchange."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from markets.models import Market, Trade
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import FakeExchange, error, paginated, serve_configured_client
from markets.tests.kalshi_payloads import EVENT, TICKER, cli_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_env_key(settings):
    settings.KALSHI_API_KEY_ID = settings.KALSHI_PRIVATE_KEY_PATH = None


@pytest.fixture
def fake(monkeypatch):
    exchange = FakeExchange()
    serve_configured_client(monkeypatch, exchange)
    return exchange


def nested_event() -> dict[str, object]:
    return payloads.event(markets=[payloads.market()])


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- syncmarkets ----------------------------------------------------------------------------


def test_it_discovers_and_syncs_with_a_printed_report(fake):
    listed = [
        payloads.series(ticker="KXHIGHNY", settlement_sources=[{"name": "NWS", "url": cli_url("NYC", "OKX")}]),
        payloads.series(ticker="KXHIGHTDAL", settlement_sources=[{"name": "NWS", "url": cli_url("DAL", "FWD")}]),
        payloads.series(ticker="KXHIGHTXYZ", settlement_sources=[{"name": "NWS", "url": cli_url("XYZ", "OKX")}]),
        payloads.series(ticker="KXLOWTBOS", settlement_sources=[]),
    ]
    fake.on("GET", "/series", {"series": listed})
    fake.on("GET", "/events", paginated("events", [nested_event()], per_page=100, match_on=("series_ticker",)))
    out = run("syncmarkets", "--discover", "--series", "KXHIGHNY")
    assert "Discovery: 4 series in 'Climate and Weather', 4 daily temperature series (4 new, 0 updated)." in out
    assert "KXHIGHNY       New York (CLINYC)" in out
    assert "KXHIGHTDAL     CLIDAL, but Dallas has CLIDFW" in out
    assert "KXHIGHTXYZ     CLIXYZ" in out
    assert "KXLOWTBOS      no NWS CLI URL among its settlement sources (none)" in out
    assert "KXLOWTNYC      New York (active)" in out
    assert "Sync of 1 series (new/updated/unchanged):" in out
    assert "KXHIGHNY                 1/0/0             1/0/0" in out
    assert Market.objects.filter(ticker=TICKER).exists()


def test_it_syncs_the_active_cities_series_without_discovery(fake):
    fake.on("GET", "/events", paginated("events", [nested_event()], per_page=100, match_on=("series_ticker",)))
    out = run("syncmarkets")
    assert "Sync of 14 series" in out
    assert "/series" not in {r.url.path for r in fake.requests}


def test_it_prints_markets_it_could_not_store(fake):
    odd = payloads.market(ticker=f"{EVENT}-X1", strike_type=payloads.DROP, yes_sub_title="warm-ish")
    event = payloads.event(markets=[odd])
    fake.on("GET", "/events", paginated("events", [event], per_page=100))
    out = run("syncmarkets", "--series", "KXHIGHNY")
    assert f"Error: KXHIGHNY: {EVENT}-X1: cannot read a temperature bracket from subtitle 'warm-ish'" in out


def test_an_outage_is_a_clear_command_error(fake):
    fake.on("GET", "/events", error(503))
    with pytest.raises(CommandError, match="Kalshi is unavailable: GET /trade-api/v2/events: HTTP 503") as info:
        run("syncmarkets", "--series", "KXHIGHNY")
    assert "running the command again is safe" in str(info.value)


def test_a_rate_limit_that_outlasts_the_retries_is_a_clear_command_error(fake):
    fake.on("GET", "/series", error(429, headers={"Retry-After": "3600"}))
    with pytest.raises(CommandError, match="Kalshi is rate limiting these requests"):
        run("syncmarkets", "--discover", "--no-sync")


def test_it_refuses_options_that_do_nothing_or_make_no_sense(fake):
    with pytest.raises(CommandError, match="--no-sync without --discover"):
        run("syncmarkets", "--no-sync")
    with pytest.raises(CommandError, match="series tickers separated by commas"):
        run("syncmarkets", "--series", "KXHIGH NY")


# --- backfillhistory ------------------------------------------------------------------------


def backfill_exchange(fake: FakeExchange) -> FakeExchange:
    # A live market of 2026-03-02: the cutoff is before the window, so nothing is archived.
    cutoff = payloads.historical_cutoff(
        market_settled_ts="2026-02-01T00:00:00Z", trades_created_ts="2026-02-01T00:00:00Z"
    )
    trades = [payloads.trade(trade_id=f"t-{n}", ticker=TICKER) for n in range(3)]
    return (
        fake.on("GET", "/historical/cutoff", cutoff)
        .on("GET", "/events", paginated("events", [nested_event()], per_page=100))
        .on("GET", "/markets/trades", paginated("trades", trades, per_page=2, match_on=("ticker",)))
    )


def test_it_backfills_and_prints_counts_and_a_rerun_adds_nothing(fake):
    backfill_exchange(fake)
    args = ("backfillhistory", "--series", "KXHIGHNY", "--start", "2026-03-01", "--end", "2026-03-02")
    out = run(*args)
    assert "KXHIGHNY 2026-03-01..2026-03-02:" in out
    assert "historical cutoff: markets settled before 2026-02-01 00:00Z, trades before 2026-02-01 00:00Z" in out
    assert "events   1 new, 0 updated, 0 unchanged" in out
    assert "markets  1 new, 0 updated, 0 unchanged  (1 live, 0 from /historical/markets)" in out
    assert "trades   3 read, 3 new" in out
    again = run(*args)
    assert "markets  0 new, 0 updated, 1 unchanged" in again
    assert "trades   3 read, 0 new" in again
    assert Trade.objects.count() == 3


def test_it_backfills_several_series_without_trades(fake):
    backfill_exchange(fake)
    out = run(
        "backfillhistory",
        "--series",
        "KXHIGHNY,kxhighchi",
        "--start",
        "2026-03-01",
        "--end",
        "2026-03-02",
        "--no-trades",
    )
    assert "KXHIGHNY 2026-03-01..2026-03-02:" in out
    assert "KXHIGHCHI 2026-03-01..2026-03-02:" in out
    assert "trades" not in out.replace("trades before", "")
    assert not any(r.url.path.endswith("/markets/trades") for r in fake.requests)


def test_a_refused_key_says_what_to_do(fake):
    fake.on("GET", "/historical/cutoff", error(401, code="authentication_error", message="missing key"))
    with pytest.raises(CommandError) as info:
        run("backfillhistory", "--series", "KXHIGHNY", "--start", "2026-03-01", "--end", "2026-03-02")
    message = str(info.value)
    assert "Kalshi refused the request: GET /trade-api/v2/historical/cutoff: HTTP 401" in message
    assert "set KALSHI_API_KEY_ID/KALSHI_PRIVATE_KEY_PATH or add one in the admin" in message


def test_an_unusable_configured_key_is_a_clear_command_error(fake, settings, tmp_path):
    settings.KALSHI_API_KEY_ID, settings.KALSHI_PRIVATE_KEY_PATH = "key-id", str(tmp_path / "missing.pem")
    with pytest.raises(CommandError, match=r"The configured Kalshi API key cannot be used: .*no such file"):
        run("backfillhistory", "--series", "KXHIGHNY", "--start", "2026-03-01", "--end", "2026-03-02")


def test_an_outage_during_a_backfill_is_a_clear_command_error(fake):
    fake.on("GET", "/historical/cutoff", error(502))
    with pytest.raises(CommandError, match="Kalshi is unavailable"):
        run("backfillhistory", "--series", "KXHIGHNY", "--start", "2026-03-01", "--end", "2026-03-02")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2026-03-02", "--end", "2026-03-01"), "--start 2026-03-02 is after --end 2026-03-01"),
        (("--start", "March 1", "--end", "2026-03-01"), "expected a date as YYYY-MM-DD, got 'March 1'"),
    ],
)
def test_it_refuses_a_bad_window(fake, args, message):
    with pytest.raises(CommandError, match=message):
        run("backfillhistory", "--series", "KXHIGHNY", *args)
