"""The markets Celery tasks (run eagerly in tests) and their place in the beat schedule."""

from __future__ import annotations

import pytest

from kalshiweb.schedule import periodic_tasks
from markets.errors import ExchangeUnavailable, RateLimited
from markets.models import Market, Series
from markets.services.sync import active_series_tickers
from markets.tasks import discover_series_task, sync_markets_task
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import FakeExchange, paginated, serve_configured_client
from markets.tests.kalshi_payloads import TICKER, cli_url
from weather.models import City

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch, settings):
    # Both tasks read public endpoints only: no key is configured, and none is needed.
    settings.KALSHI_API_KEY_ID = settings.KALSHI_PRIVATE_KEY_PATH = None
    exchange = FakeExchange()
    serve_configured_client(monkeypatch, exchange)
    return exchange


def test_the_discovery_task_runs_discovery_without_a_key(fake):
    sources = [{"name": "NWS", "url": cli_url("DCA", "LWX")}]
    fake.on("GET", "/series", {"series": [payloads.series(ticker="KXHIGHTDC", settlement_sources=sources)]})
    result = discover_series_task.delay().get()
    assert result == {"series": 1, "matched": 1, "mismatched": 0}
    assert Series.objects.get(ticker="KXHIGHTDC").city == City.objects.get(name="Washington DC")
    assert City.objects.get(name="Washington DC").station_verified is True
    assert "KALSHI-ACCESS-KEY" not in fake.requests[0].headers


def test_the_sync_task_syncs_the_given_series(fake):
    fake.on("GET", "/events", paginated("events", [payloads.event(markets=[payloads.market()])], per_page=10))
    result = sync_markets_task.delay(["KXHIGHNY"]).get()
    assert result == {"series": 1, "markets_created": 1, "markets_updated": 0}
    assert Market.objects.filter(ticker=TICKER).exists()
    assert [r.url.params["series_ticker"] for r in fake.requests] == ["KXHIGHNY"]


def test_the_sync_task_defaults_to_the_active_cities(fake):
    fake.on("GET", "/events", {"events": [], "cursor": ""})
    assert sync_markets_task.delay().get()["series"] == len(active_series_tickers()) == 14


@pytest.mark.parametrize("task", [discover_series_task, sync_markets_task])
def test_outages_and_rate_limits_are_retried_by_the_decorator(task):
    assert set(task.autoretry_for) == {ExchangeUnavailable, RateLimited}
    assert task.retry_backoff and task.retry_jitter and task.max_retries


def test_the_schedule_runs_discovery_daily_and_the_sync_every_few_minutes():
    specs = {spec.task: spec for spec in periodic_tasks()}
    assert specs["markets.tasks.discover_series_task"].every_seconds == 24 * 60 * 60
    assert specs["markets.tasks.sync_markets_task"].every_seconds <= 10 * 60
    assert "kalshiweb.tasks.heartbeat_task" in specs
