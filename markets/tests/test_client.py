from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshiweb.modes import KalshiEnvironment, TradingMode
from markets import endpoints
from markets.calls import DryRunResult
from markets.client import ClientConfig, DryRunViolation, KalshiClient, RetryPolicy
from markets.client_api import is_mutating
from markets.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    Conflict,
    ExchangeUnavailable,
    KalshiError,
    NotFound,
    RateLimited,
)
from markets.ratelimit import Limits, RateLimiter, RequestClass
from markets.schemas import CandlestickInterval, MarketStatusFilter, OrderStatus
from markets.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, RequestSigner
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import (
    DEMO_URL,
    KEY_ID,
    NOW,
    PROD_URL,
    FakeExchange,
    GetOnly,
    error,
    make_client,
    verify_signature,
)
from markets.tests.kalshi_payloads import TICKER, call_with_samples, order_request
from markets.transport import parse_retry_after


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signer(private_key):
    return RequestSigner(KEY_ID, private_key, clock=lambda: NOW)


# --- reading ---------------------------------------------------------------------------------


def test_it_fetches_and_parses_a_market():
    exchange = FakeExchange().on("GET", f"/markets/{TICKER}", {"market": payloads.market()})
    with make_client(exchange, mode=TradingMode.DRY) as client:
        market = client.get_market(TICKER)
    assert market.yes_bid == Decimal("0.31")
    assert exchange.requests[0].headers["User-Agent"].startswith("kalshiweb/")
    assert KEY_HEADER not in exchange.requests[0].headers  # no key configured: public data unsigned


def test_it_streams_pages_following_cursors():
    exchange = FakeExchange().on(
        "GET",
        "/markets",
        {"markets": [payloads.market(ticker="A")], "cursor": "c1"},
        {"markets": [payloads.market(ticker="B"), payloads.market(ticker="C")], "cursor": "c2"},
        {"markets": [payloads.market(ticker="D")], "cursor": ""},
    )
    client = make_client(exchange, page_size=2)
    markets = client.iter_markets(series_ticker="KXHIGHNY", status=MarketStatusFilter.OPEN)
    assert next(markets).ticker == "A"
    assert len(exchange.requests) == 1  # pages are fetched as they are consumed
    assert [m.ticker for m in markets] == ["B", "C", "D"]
    assert [exchange.params(i).get("cursor") for i in range(3)] == [None, ["c1"], ["c2"]]
    assert exchange.params(0) == {"series_ticker": ["KXHIGHNY"], "status": ["open"], "limit": ["2"]}


def test_it_exposes_pages_for_any_list_endpoint():
    exchange = FakeExchange().on("GET", "/markets/trades", {"trades": [payloads.trade()], "cursor": ""})
    pages = list(make_client(exchange).pages(endpoints.trades(ticker=TICKER)))
    assert len(pages) == 1
    assert pages[0].items[0].ticker == TICKER


@pytest.mark.parametrize(
    ("paged", "page_size", "limit"),
    [
        (endpoints.events(), 500, "200"),
        (endpoints.events(), 50, "50"),
        (endpoints.markets(), 5000, "1000"),
        (endpoints.trades(), 0, "1"),
        (endpoints.orders(), 1000, "1000"),
    ],
)
def test_it_clamps_page_size_to_the_endpoint_maximum(paged, page_size, limit, signer):
    key = paged.query.template
    items = key.rsplit("/", 1)[-1]
    exchange = FakeExchange().on("GET", key, {items: [], "cursor": ""})
    list(make_client(exchange, signer=signer).pages(paged, page_size=page_size))
    assert exchange.params()["limit"] == [limit]


def test_it_detects_a_cursor_loop():
    exchange = FakeExchange().on(
        "GET",
        "/events",
        {"events": [payloads.event()], "cursor": "same"},
        {"events": [payloads.event()], "cursor": "same"},
    )
    with pytest.raises(BadResponse, match="pagination loop: cursor 'same'"):
        list(make_client(exchange).iter_events())
    assert len(exchange.requests) == 2


def test_query_timestamps_are_unix_seconds():
    exchange = FakeExchange().on("GET", "/markets/trades", {"trades": [], "cursor": ""})
    start = datetime(2026, 3, 2, 15, tzinfo=UTC)
    list(make_client(exchange).iter_trades(ticker=TICKER, min_ts=start, max_ts=start.replace(hour=16)))
    assert exchange.params()["min_ts"] == ["1772463600"]
    assert exchange.params()["max_ts"] == ["1772467200"]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware datetime"):
        endpoints.trades(min_ts=datetime(2026, 3, 2, 15))


def test_get_event_takes_markets_from_beside_the_event():
    exchange = FakeExchange().on(
        "GET", "/events/KXHIGHNY-26MAR02", {"event": payloads.event(), "markets": [payloads.market()]}
    )
    event = make_client(exchange).get_event("KXHIGHNY-26MAR02", with_nested_markets=True)
    assert [m.ticker for m in event.markets] == [TICKER]
    assert exchange.params() == {"with_nested_markets": ["true"]}


def test_it_chunks_orderbooks_by_one_hundred_tickers(signer):
    tickers = [f"T-{n}" for n in range(250)]

    def books(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("tickers")
        entries = [{"ticker": t, **payloads.orderbook_fp([["0.3000", "1.00"]], [])} for t in asked]
        return httpx.Response(200, json={"orderbooks": entries})

    exchange = FakeExchange().on("GET", "/markets/orderbooks", books)
    result = make_client(exchange, signer=signer).get_orderbooks(tickers)
    assert [len(r.url.params.get_list("tickers")) for r in exchange.requests] == [100, 100, 50]
    assert list(result) == tickers
    assert result["T-7"].best_yes_bid == Decimal("0.3")


def test_it_chunks_batch_candlesticks():
    tickers = [f"T-{n}" for n in range(150)]
    exchange = FakeExchange().on("GET", "/markets/candlesticks", {"markets": []})
    start = datetime(2026, 3, 1, tzinfo=UTC)
    make_client(exchange).get_batch_candlesticks(
        tickers, start=start, end=start.replace(day=2), period_interval=CandlestickInterval.HOUR
    )
    assert [len(exchange.params(i)["market_tickers"][0].split(",")) for i in range(2)] == [100, 50]
    assert exchange.params(0)["period_interval"] == ["60"]


# --- retries ---------------------------------------------------------------------------------


def test_it_retries_get_on_503():
    exchange = FakeExchange().on(
        "GET", "/exchange/status", error(503), error(502), {"exchange_active": True, "trading_active": True}
    )
    client = make_client(exchange, retry=RetryPolicy(attempts=4, backoff=0.5, max_backoff=20))
    assert client.get_exchange_status().trading_active is True
    assert len(exchange.requests) == 3
    first, second = client.recorder.slept
    assert 0 <= first <= 0.5  # full jitter: anywhere up to the exponential ceiling
    assert 0 <= second <= 1.0


def test_it_gives_up_after_the_configured_attempts():
    exchange = FakeExchange().on("GET", "/exchange/status", error(500, "internal", "boom"))
    client = make_client(exchange, retry=RetryPolicy(attempts=3))
    with pytest.raises(ExchangeUnavailable, match="GET /trade-api/v2/exchange/status: HTTP 500 exchange error") as info:
        client.get_exchange_status()
    assert info.value.code == "internal"
    assert len(exchange.requests) == 3


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("dropped")]
)
def test_it_retries_get_on_connection_errors_and_timeouts(failure):
    exchange = FakeExchange().on("GET", "/historical/cutoff", failure, _cutoff())
    assert make_client(exchange).get_historical_cutoff().market_settled_ts.year == 2025
    assert len(exchange.requests) == 2


def _cutoff():
    stamp = "2025-12-01T00:00:00Z"
    return {"market_settled_ts": stamp, "trades_created_ts": stamp, "orders_updated_ts": stamp}


def test_it_honours_retry_after_seconds():
    exchange = FakeExchange().on("GET", "/historical/cutoff", error(429, headers={"Retry-After": "3"}), _cutoff())
    client = make_client(exchange)
    client.get_historical_cutoff()
    assert client.recorder.slept == [3.0]


def test_it_honours_retry_after_as_an_http_date():
    later = format_datetime(datetime.fromtimestamp(NOW + 7, tz=UTC), usegmt=True)
    exchange = FakeExchange().on("GET", "/historical/cutoff", error(429, headers={"Retry-After": later}), _cutoff())
    client = make_client(exchange)
    client.get_historical_cutoff()
    assert client.recorder.slept == [pytest.approx(7.0)]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), (" 1.5 ", 1.5), ("-3", 0.0), ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0), ("soon", None), ("", None)],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


def test_it_raises_rate_limited_when_asked_to_wait_too_long():
    exchange = FakeExchange().on("GET", "/historical/cutoff", error(429, headers={"Retry-After": "3600"}))
    client = make_client(exchange)
    with pytest.raises(RateLimited) as info:
        client.get_historical_cutoff()
    assert info.value.retry_after == 3600
    assert client.recorder.slept == []


def test_it_does_not_retry_client_errors():
    exchange = FakeExchange().on("GET", f"/markets/{TICKER}", error(404, "not_found", "market not found"))
    with pytest.raises(NotFound, match="Kalshi says not_found: market not found"):
        make_client(exchange).get_market(TICKER)
    assert len(exchange.requests) == 1


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (409, Conflict),
        (422, BadRequest),
        (418, KalshiError),
    ],
)
def test_it_maps_error_statuses(status, kind, signer):
    exchange = FakeExchange().on("GET", "/portfolio/balance", error(status, "the_code", "the message"))
    with pytest.raises(kind) as info:
        make_client(exchange, signer=signer).get_balance()
    assert type(info.value) is kind
    assert (info.value.status, info.value.code, info.value.message) == (status, "the_code", "the message")
    assert (info.value.method, info.value.path) == ("GET", "/trade-api/v2/portfolio/balance")
    assert KEY_ID not in str(info.value)
    assert "SIGNATURE" not in str(info.value).upper()


def test_it_reads_flat_error_json_too():
    answer = httpx.Response(400, json={"code": "invalid_parameters", "message": "bad limit", "details": "limit"})
    exchange = FakeExchange().on("GET", "/markets", answer)
    with pytest.raises(BadRequest, match="invalid_parameters: bad limit") as info:
        list(make_client(exchange).iter_markets())
    assert info.value.info is not None
    assert info.value.info.details == "limit"


def test_it_raises_bad_response_on_non_json():
    exchange = FakeExchange().on("GET", "/exchange/status", httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(BadResponse, match="GET /trade-api/v2/exchange/status: HTTP 200 the answer is not JSON"):
        make_client(exchange).get_exchange_status()


def test_a_payload_that_does_not_fit_names_request_object_and_field():
    exchange = FakeExchange().on("GET", f"/markets/{TICKER}", {"market": payloads.market(status=None)})
    with pytest.raises(BadResponse) as info:
        make_client(exchange).get_market(TICKER)
    assert str(info.value) == (
        f"GET /trade-api/v2/markets/{TICKER}: HTTP 200 Market '{TICKER}': field 'status': is null"
    )
    exchange = FakeExchange().on("GET", f"/markets/{TICKER}", {"markets": []})
    with pytest.raises(BadResponse, match="GetMarket response: field 'market': missing"):
        make_client(exchange).get_market(TICKER)


# --- authentication ------------------------------------------------------------------------------


def test_it_signs_authenticated_requests(signer, private_key):
    exchange = FakeExchange().on("GET", "/portfolio/orders", {"orders": [payloads.order()], "cursor": ""})
    orders = list(make_client(exchange, signer=signer).iter_orders(ticker=TICKER, status=OrderStatus.RESTING))
    assert orders[0].order_id == "ord-1"
    headers = exchange.requests[0].headers
    assert headers[KEY_HEADER] == KEY_ID
    assert headers[TIMESTAMP_HEADER] == "1772463600000"
    assert exchange.requests[0].url.query  # the request has a query string, the signature does not
    verify_signature(private_key.public_key(), headers, b"1772463600000GET/trade-api/v2/portfolio/orders")


def test_it_refuses_authenticated_calls_without_a_key():
    exchange = FakeExchange()
    with pytest.raises(AuthError, match="no Kalshi API key configured: set KALSHI_API_KEY_ID/KALSHI_PRIVATE_KEY_PATH"):
        make_client(exchange).get_balance()
    assert exchange.requests == []


def test_logs_never_carry_headers_or_signatures(signer, caplog):
    caplog.set_level(logging.DEBUG)
    exchange = FakeExchange().trading()
    make_client(exchange, signer=signer).create_order(order_request())
    signature = exchange.requests[0].headers[SIGNATURE_HEADER]
    assert "client_order_id" in caplog.text  # the body is logged at DEBUG
    assert signature not in caplog.text
    assert KEY_ID not in caplog.text


# --- DRY mode ----------------------------------------------------------------------------------


def test_dry_mode_never_sends_a_mutating_request_from_any_method(signer):
    exchange = GetOnly()
    client = make_client(exchange, mode=TradingMode.DRY, signer=signer)
    public = [name for name, _ in inspect.getmembers(KalshiClient, inspect.isfunction) if not name.startswith("_")]
    mutating = [name for name in public if is_mutating(getattr(KalshiClient, name))]
    order_family = {"create_order", "cancel_order", "amend_order", "decrease_order", "decrease_order_to"}
    batches = {"batch_create_orders", "batch_cancel_orders", "cancel_all_orders"}
    assert order_family | batches | {"submit"} <= set(mutating)
    for name in public:
        if name == "close":
            continue
        sent_before = len(exchange.requests)
        try:
            result = call_with_samples(getattr(client, name))
            if isinstance(result, Iterator):
                next(result, None)
        except KalshiError:
            result = None  # a read that got {} back: fine, it was a GET
        if name in mutating:
            assert isinstance(result, DryRunResult), f"{name} must return a DryRunResult in DRY mode"
            assert result.dry_run is True
            assert len(exchange.requests) == sent_before, f"{name} sent a request in DRY mode"
        else:
            assert not isinstance(result, DryRunResult), f"{name} returns a DryRunResult: mark it @mutating"
    assert exchange.requests, "the reads did reach the exchange"
    assert {request.method for request in exchange.requests} == {"GET"}


def test_a_dry_run_result_describes_what_was_not_sent(caplog, signer):
    caplog.set_level(logging.INFO, logger="markets")
    client = make_client(GetOnly(), mode=TradingMode.DRY, signer=signer)
    result = client.create_order(order_request(client_order_id="kw-9"))
    assert isinstance(result, DryRunResult)
    assert (result.method, result.path) == ("POST", "/trade-api/v2/portfolio/events/orders")
    assert result.body is not None
    assert result.body["price"] == "0.3100"
    assert result.client_order_id == "kw-9"
    assert "not sent" in result.message
    assert "DRY mode: POST /trade-api/v2/portfolio/events/orders was not sent" in caplog.text
    assert KEY_ID not in caplog.text


def test_dry_mode_returns_a_dry_run_even_without_a_key():
    result = make_client(GetOnly(), mode=TradingMode.DRY).cancel_order("ord-1")
    assert isinstance(result, DryRunResult)


def test_the_http_layer_refuses_mutations_in_dry_mode_as_a_second_guard(signer):
    exchange = GetOnly()
    client = make_client(exchange, mode=TradingMode.DRY, signer=signer)
    with pytest.raises(DryRunViolation):
        client._send(endpoints.cancel_order("ord-1"))  # bypassing submit(), as a bug might
    assert exchange.requests == []


def test_dry_mode_still_reads_live_data():
    exchange = FakeExchange().on("GET", "/exchange/status", {"exchange_active": True, "trading_active": False})
    assert make_client(exchange, mode=TradingMode.DRY).get_exchange_status().trading_active is False


# --- configuration and rate limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "env", "mode", "problem"),
    [
        (PROD_URL, KalshiEnvironment.DEMO, TradingMode.DEMO, "production exchange"),
        (DEMO_URL, KalshiEnvironment.PROD, TradingMode.LIVE, "demo exchange"),
        (PROD_URL, KalshiEnvironment.PROD, TradingMode.DEMO, "contradicts"),
        ("http://external-api.kalshi.com/trade-api/v2", KalshiEnvironment.PROD, TradingMode.DRY, "must be https"),
    ],
)
def test_contradictory_configuration_is_refused(url, env, mode, problem):
    with pytest.raises(ValueError, match=problem):
        ClientConfig(base_url=url, environment=env, mode=mode)


def test_a_local_simulator_may_use_plain_http():
    config = ClientConfig(
        base_url="http://127.0.0.1:8765/trade-api/v2", environment=KalshiEnvironment.DEMO, mode=TradingMode.DEMO
    )
    assert config.base_path == "/trade-api/v2"


def test_every_call_is_rate_limited(signer):
    class Spy(RateLimiter):
        def __init__(self):
            super().__init__()
            self.taken: list[tuple[RequestClass, float]] = []

        def acquire(self, kind, cost=1.0):
            self.taken.append((kind, cost))
            return 0.0

    spy = Spy()
    exchange = (
        FakeExchange()
        .on("GET", "/exchange/status", error(503), {"exchange_active": True, "trading_active": True})
        .on("DELETE", "/portfolio/events/orders/batched", {"orders": []})
    )
    client = make_client(exchange, signer=signer, limiter=spy)
    client.get_exchange_status()
    client.batch_cancel_orders(["a", "b", "c", "d", "e"])
    assert spy.taken == [(RequestClass.READ, 1.0), (RequestClass.READ, 1.0), (RequestClass.WRITE, pytest.approx(1.0))]


def test_refresh_rate_limits_resizes_the_limiter(signer):
    exchange = FakeExchange().on(
        "GET", "/account/limits", {"usage_tier": "advanced", "read_limit": 30, "write_limit": 30}
    )
    client = make_client(exchange, signer=signer, limiter=RateLimiter())
    assert client.refresh_rate_limits().usage_tier == "advanced"
    assert client.limiter.limits == Limits(read_per_second=30, write_per_second=30)


def test_a_mode_given_as_text_still_fails_closed():
    config = ClientConfig(base_url=PROD_URL, environment="PROD", mode="DRY")  # type: ignore[arg-type]
    assert config.mode is TradingMode.DRY
    assert config.sends_mutations is False
    with KalshiClient(config, transport=httpx.MockTransport(GetOnly())) as client:
        assert isinstance(client.cancel_order("ord-1"), DryRunResult)
