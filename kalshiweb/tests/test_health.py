from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kalshiweb.health import FEED_COMPONENT, WORKER_COMPONENT
from kalshiweb.models import Heartbeat
from prediction.models import ModelVersion
from weather.tests.factories import ForecastSnapshotFactory

pytestmark = pytest.mark.django_db


LIVE_FEED = {"connected": True, "last_frame_age_seconds": 0.4, "markets": 36, "stale_books": 0, "reconnects": 0}


def get_health(client):
    response = client.get("/health/")
    return response.status_code, response.json()


def test_it_reports_every_component(client):
    _status, body = get_health(client)
    assert set(body["components"]) == {
        "database",
        "channel_layer",
        "broker",
        "worker",
        "model",
        "data_freshness",
        "weather_sources",
        "feed",
        "trading",
    }
    assert body["trading_mode"] == "DRY"
    for name in ("database", "channel_layer", "broker"):
        assert body["components"][name]["status"] == "ok", body
        assert body["components"][name]["critical"] is True


def test_a_fresh_install_is_degraded_not_down(client):
    status, body = get_health(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["components"]["worker"]["status"] == "warn"
    assert body["components"]["model"]["detail"] == "no promoted model yet"
    assert "no forecasts yet" in body["components"]["data_freshness"]["detail"]


def test_it_is_ok_when_everything_is_fresh(client):
    now = timezone.now()
    Heartbeat.objects.beat(WORKER_COMPONENT, now=now)
    ModelVersion.objects.create(
        name="emos", version=1, kind="statistical", status="promoted", trained_at=now, promoted_at=now
    )
    ForecastSnapshotFactory(available_at=now - timedelta(minutes=5), issued_at=now - timedelta(minutes=30))
    from markets.tests.factories import MarketFactory
    from weather.services.health import record_success

    MarketFactory(synced_at=now)
    record_success("nws", now=now, latency_ms=120.0, stored=12, rejected=0)
    Heartbeat.objects.beat(FEED_COMPONENT, now=now, detail=LIVE_FEED)
    status, body = get_health(client)
    assert (status, body["status"]) == (200, "ok"), body


def test_a_stale_worker_takes_the_system_down(client):
    Heartbeat.objects.beat(WORKER_COMPONENT, now=timezone.now() - timedelta(minutes=10))
    status, body = get_health(client)
    assert status == 503
    assert body["status"] == "down"
    assert body["components"]["worker"]["status"] == "fail"
    assert "last heartbeat" in body["components"]["worker"]["detail"]


def test_a_failing_critical_check_returns_503_with_the_error(client, monkeypatch):
    def broken():
        raise ConnectionRefusedError("broker at 127.0.0.1:6379 refused")

    monkeypatch.setattr("kalshiweb.health.check_broker", broken)
    status, body = get_health(client)
    assert status == 503
    assert body["components"]["broker"] == {
        "status": "fail",
        "detail": "ConnectionRefusedError: broker at 127.0.0.1:6379 refused",
        "critical": True,
        "latency_ms": body["components"]["broker"]["latency_ms"],
    }


def test_a_stale_model_or_old_data_only_degrades(client):
    now = timezone.now()
    Heartbeat.objects.beat(WORKER_COMPONENT, now=now)
    ModelVersion.objects.create(
        name="emos",
        version=1,
        kind="statistical",
        status="promoted",
        trained_at=now - timedelta(days=60),
        promoted_at=now,
    )
    ForecastSnapshotFactory(available_at=now - timedelta(days=2), issued_at=now - timedelta(days=2))
    status, body = get_health(client)
    assert (status, body["status"]) == (200, "degraded")
    assert body["components"]["model"]["status"] == "warn"
    assert "forecasts" in body["components"]["data_freshness"]["detail"]


def test_health_is_not_cached(client):
    response = client.get("/health/")
    assert "no-cache" in response["Cache-Control"]


def test_a_failing_weather_source_degrades_and_says_which(client):
    from weather.services.health import record_failure, record_success

    now = timezone.now()
    record_success("open-meteo", now=now, latency_ms=80.0, stored=30, rejected=1)
    for _ in range(3):
        record_failure("nws", now=now, error="api.weather.gov answered 503")
    status, body = get_health(client)
    weather = body["components"]["weather_sources"]
    assert status == 200
    assert weather["status"] == "warn"
    assert "failing: nws" in weather["detail"]
    assert weather["data"]["nws"]["consecutive_failures"] == 3
    assert weather["data"]["nws"]["last_error"] == "api.weather.gov answered 503"
    assert weather["data"]["open-meteo"]["last_latency_ms"] == 80.0


@pytest.mark.parametrize(
    ("detail", "age", "expected"),
    [
        (None, 0, "no market feed has run"),
        (LIVE_FEED, 600, "the feed process last reported 600s ago"),
        (
            {**LIVE_FEED, "connected": False, "last_error": "ConnectionClosedError: no close frame"},
            0,
            "not connected to Kalshi (ConnectionClosedError: no close frame)",
        ),
        ({**LIVE_FEED, "last_frame_age_seconds": 300.0}, 0, "connected, but no frame for 300s"),
        ({**LIVE_FEED, "stale_books": 2}, 0, "2 order book(s) out of sequence"),
        ({**LIVE_FEED, "connected": False, "stopped": True}, 0, "the feed was stopped"),
    ],
)
def test_the_feed_degrades_the_report_and_says_why(client, detail, age, expected):
    if detail is not None:
        Heartbeat.objects.beat(FEED_COMPONENT, now=timezone.now() - timedelta(seconds=age), detail=detail)
    status, body = get_health(client)
    feed = body["components"]["feed"]
    assert status == 200 and feed["status"] == "warn" and feed["critical"] is False
    assert expected in feed["detail"]


def test_a_live_feed_reports_its_markets(client):
    Heartbeat.objects.beat(FEED_COMPONENT, now=timezone.now(), detail=LIVE_FEED)
    feed = get_health(client)[1]["components"]["feed"]
    assert feed["status"] == "ok" and feed["detail"] == "connected, 36 markets, last frame 0s ago"
    assert feed["data"]["markets"] == 36


class TestTrading:
    def test_dry_reports_its_mode_and_last_cycle(self, client):
        from trading.models import TradingCycle

        now = timezone.now()
        TradingCycle.objects.create(mode="DRY", strategy="model-taker", as_of=now, outcome="done")
        trading = get_health(client)[1]["components"]["trading"]
        assert trading["status"] == "ok" and trading["critical"] is False
        assert trading["detail"].startswith("DRY, halted, last cycle done")
        assert trading["data"]["mode"] == "DRY"
        assert trading["data"]["last_cycle"]["outcome"] == "done"
        assert trading["data"]["unknown_orders"] == 0

    def test_unknown_orders_degrade_and_say_they_block_their_market(self, client):
        from trading.tests.factories import OrderFactory

        order = OrderFactory.create(status="unknown")
        status, body = get_health(client)
        trading = body["components"]["trading"]
        assert status == 200 and trading["status"] == "warn"
        assert (
            f"1 order(s) with unknown outcome, each blocking its market until reconciliation: {order.ticker}"
            in (trading["detail"])
        )
        assert trading["data"]["unknown_orders"] == 1

    def test_a_failed_cycle_degrades(self, client):
        from trading.models import TradingCycle

        TradingCycle.objects.create(
            mode="DRY", strategy="model-taker", as_of=timezone.now(), outcome="failed", detail="ValueError: boom"
        )
        trading = get_health(client)[1]["components"]["trading"]
        assert trading["status"] == "warn" and "last trading cycle failed: ValueError: boom" in trading["detail"]

    def test_demo_reports_an_incomplete_reconciliation(self, client, settings):
        from trading.models import Reconciliation

        settings.TRADING_MODE = "DEMO"
        Reconciliation.objects.create(mode="DEMO", started_at=timezone.now(), complete=False, unresolved=2)
        trading = get_health(client)[1]["components"]["trading"]
        assert trading["status"] == "warn" and trading["critical"] is False
        assert "last reconciliation incomplete (2 unresolved)" in trading["detail"]
        assert trading["data"]["last_reconciliation"]["complete"] is False

    def test_live_that_cannot_trade_takes_the_system_down_and_says_why(self, client, settings):
        settings.TRADING_MODE, settings.LIVE_TRADING_ARMED = "LIVE", False
        status, body = get_health(client)
        trading = body["components"]["trading"]
        assert status == 503 and body["status"] == "down"
        assert trading["status"] == "fail" and trading["critical"] is True
        assert trading["data"]["live_problems"] == [
            "LIVE_TRADING_ARMED is not set",
            "no operator has confirmed LIVE trading in the admin (Trading state → Confirm LIVE)",
            "no usable Kalshi production API key",
        ]
        assert trading["detail"].startswith("LIVE cannot trade: LIVE_TRADING_ARMED is not set")

    def test_armed_confirmed_and_keyed_live_is_ok(self, client, settings, monkeypatch):
        from trading.models import Reconciliation, TradingCycle, TradingState

        settings.TRADING_MODE, settings.LIVE_TRADING_ARMED = "LIVE", True
        monkeypatch.setattr("kalshiweb.health._has_usable_key", lambda: True)
        now = timezone.now()
        TradingState.objects.filter(pk=TradingState.load().pk).update(live_confirmed_at=now, live_confirmed_by="a")
        TradingCycle.objects.create(mode="LIVE", strategy="model-taker", as_of=now, outcome="done")
        Reconciliation.objects.create(mode="LIVE", started_at=now, complete=True)
        trading = get_health(client)[1]["components"]["trading"]
        assert trading["status"] == "ok", trading
        assert trading["critical"] is True
        assert trading["data"]["live_problems"] == []
