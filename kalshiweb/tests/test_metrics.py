"""/metrics after the real thing happened: tasks, trading cycles, sockets, weather fetches, and several processes.

Counters are process-wide and other tests move them too, so each test reads
a sample before and after its action and checks the difference, through the
/metrics page a scraper reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections, transaction
from django.test import Client
from prometheus_client.core import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kalshiweb.asgi import application
from kalshiweb.health import FEED_COMPONENT
from kalshiweb.metrics import clear_multiprocess_dir, forget_process, metric_names, scrape_registry
from kalshiweb.models import Heartbeat
from kalshiweb.tasks import heartbeat_task
from markets.errors import ExchangeUnavailable
from markets.tasks import sync_markets_task
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.models import Fill, RiskLimits, TradingState
from trading.services import resume_trading
from trading.tests.world import NOW, build_world, quiet_books
from weather.services.forecasts import ingest_forecasts
from weather.tests.test_forecast_ingest import FakeSource, cities

# The contract the alert rules and dashboards are written against (monitoring/).
CONTRACT = {
    "django_http_responses_total_by_status_total",
    "django_http_requests_total_by_view_transport_method_total",
    "django_http_requests_latency_seconds_by_view_method_bucket",
    "kalshiweb_http_requests_in_progress",
    "kalshiweb_celery_tasks_total",
    "kalshiweb_celery_task_duration_seconds_bucket",
    "kalshiweb_trading_cycles_total",
    "kalshiweb_trading_cycle_errors_total",
    "kalshiweb_trading_last_cycle_timestamp_seconds",
    "kalshiweb_risk_blocks_total",
    "kalshiweb_orders_total",
    "kalshiweb_fills_total",
    "kalshiweb_fill_contracts_total",
    "kalshiweb_trading_mode",
    "kalshiweb_trading_state",
    "kalshiweb_model_age_seconds",
    "kalshiweb_weather_fetches_total",
    "kalshiweb_weather_fetch_failures_total",
    "kalshiweb_weather_fetch_seconds_bucket",
    "kalshiweb_weather_forecasts_stored_total",
    "kalshiweb_weather_forecasts_rejected_total",
    "kalshiweb_weather_observations_stored_total",
    "kalshiweb_websocket_connections",
    "kalshiweb_websocket_connections_total",
    "kalshiweb_feed_connected",
    "kalshiweb_feed_last_frame_age_seconds",
    "kalshiweb_feed_reconnects_total",
    "kalshiweb_feed_sequence_gaps_total",
    "kalshiweb_feed_stale_books",
    "kalshiweb_feed_markets",
    "kalshiweb_heartbeat_age_seconds",
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: Client | None = None) -> Samples:
    response = (client or Client()).get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when it is not there (a labelled counter appears with its first increment)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_every_name_of_the_contract_is_exported():
    names = metric_names()
    assert names >= CONTRACT, CONTRACT - names
    assert "kalshiweb_feed_reconnects" in names  # family names too, as rules may name a histogram's family
    assert "no_such_metric_total" not in names
    assert "process_cpu_seconds_total" not in names  # one process's own: not exported across processes


@pytest.mark.django_db
class TestHttp:
    def test_the_scrape_sees_itself_in_progress_and_counts_responses(self, client):
        before = scrape(client)
        after = scrape(client)
        assert value(after, "kalshiweb_http_requests_in_progress") == 1.0  # this very request
        ok = value(after, "django_http_responses_total_by_status_total", status="200")
        assert ok == value(before, "django_http_responses_total_by_status_total", status="200") + 1


@pytest.mark.django_db
class TestCelery:
    def test_a_task_run_is_counted_with_its_duration(self, client):
        labels = {"task": heartbeat_task.name}
        before = scrape(client)
        heartbeat_task.apply()
        after = scrape(client)
        for name, extra in (
            ("kalshiweb_celery_tasks_total", {"outcome": "succeeded"}),
            ("kalshiweb_celery_task_duration_seconds_count", {}),
        ):
            assert value(after, name, **labels, **extra) == value(before, name, **labels, **extra) + 1, name
        assert value(after, "kalshiweb_celery_task_duration_seconds_bucket", **labels, le="600.0") >= 1

    def test_retries_and_the_final_failure_are_counted(self, client, monkeypatch):
        def unavailable() -> None:
            raise ExchangeUnavailable("503 from the exchange")

        monkeypatch.setattr("markets.connection.kalshi_client", unavailable)
        # An eager retry runs the task again at once, raising unless told not to (the retries included).
        monkeypatch.setitem(sync_markets_task.app.conf, "task_eager_propagates", False)
        labels = {"task": sync_markets_task.name}
        before = scrape(client)
        result = sync_markets_task.apply()
        assert isinstance(result.result, ExchangeUnavailable)
        after = scrape(client)
        retried = value(after, "kalshiweb_celery_tasks_total", **labels, outcome="retried") - value(
            before, "kalshiweb_celery_tasks_total", **labels, outcome="retried"
        )
        failed = value(after, "kalshiweb_celery_tasks_total", **labels, outcome="failed") - value(
            before, "kalshiweb_celery_tasks_total", **labels, outcome="failed"
        )
        assert (retried, failed) == (sync_markets_task.max_retries, 1)


@pytest.fixture
def world():
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    return world


class FailingBroker(PaperBroker):
    """The paper broker, but catching up fails: the cycle records the error."""

    def catch_up(self, *, now):
        raise RuntimeError("the exchange's answer could not be read")


@pytest.mark.django_db
class TestTrading:
    def test_a_cycle_its_orders_and_fills_are_counted(self, client, world, django_capture_on_commit_callbacks):
        before = scrape(client)
        with django_capture_on_commit_callbacks(execute=True):
            cycle = run_cycle(PaperBroker(), now=NOW)
        after = scrape(client)
        assert cycle.outcome == "done" and cycle.placed == 1, cycle.detail
        contracts = sum((f.count for f in Fill.objects.filter(mode="DRY")), Decimal(0))
        for name, labels, expected in (
            ("kalshiweb_trading_cycles_total", {}, 1),
            ("kalshiweb_trading_cycle_errors_total", {}, 0),
            ("kalshiweb_orders_total", {"outcome": "placed"}, 1),
            ("kalshiweb_fills_total", {}, Fill.objects.filter(mode="DRY").count()),
            ("kalshiweb_fill_contracts_total", {}, float(contracts)),
        ):
            change = value(after, name, mode="DRY", **labels) - value(before, name, mode="DRY", **labels)
            assert change == expected, name
        assert contracts > 0
        assert value(after, "kalshiweb_trading_last_cycle_timestamp_seconds", mode="DRY") == NOW.timestamp()

    def test_a_halted_cycle_counts_its_risk_blocks_by_rule(self, client, world, django_capture_on_commit_callbacks):
        TradingState.objects.update(state="halted")
        before = scrape(client)
        with django_capture_on_commit_callbacks(execute=True):
            run_cycle(PaperBroker(), now=NOW)
        after = scrape(client)
        labels = {"mode": "DRY", "rule": "halted"}
        assert value(after, "kalshiweb_risk_blocks_total", **labels) > value(
            before, "kalshiweb_risk_blocks_total", **labels
        )
        assert value(after, "kalshiweb_orders_total", mode="DRY", outcome="placed") == value(
            before, "kalshiweb_orders_total", mode="DRY", outcome="placed"
        )

    def test_a_failed_cycle_counts_as_an_error(self, client, world, django_capture_on_commit_callbacks):
        before = scrape(client)
        with django_capture_on_commit_callbacks(execute=True):
            cycle = run_cycle(FailingBroker(), now=NOW)
        after = scrape(client)
        assert cycle.outcome == "failed"
        for name in ("kalshiweb_trading_cycles_total", "kalshiweb_trading_cycle_errors_total"):
            assert value(after, name, mode="DRY") == value(before, name, mode="DRY") + 1, name

    def test_a_rolled_back_cycle_counts_nothing(self, client, world, django_capture_on_commit_callbacks):
        before = scrape(client)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            run_cycle(PaperBroker(), now=NOW)
            raise RuntimeError("rolled back")
        after = scrape(client)
        for name, labels in (
            ("kalshiweb_trading_cycles_total", {}),
            ("kalshiweb_orders_total", {"outcome": "placed"}),
            ("kalshiweb_fills_total", {}),
        ):
            assert value(after, name, mode="DRY", **labels) == value(before, name, mode="DRY", **labels), name

    def test_the_model_age_and_the_configured_mode_are_exported(self, client, world, settings):
        settings.TRADING_MODE = "DEMO"
        with time_machine.travel(NOW + timedelta(hours=1), tick=False):
            samples = scrape(client)
        assert value(samples, "kalshiweb_model_age_seconds") == timedelta(minutes=65).total_seconds()
        modes = {mode: value(samples, "kalshiweb_trading_mode", mode=mode) for mode in ("DRY", "DEMO", "LIVE")}
        assert modes == {"DRY": 0.0, "DEMO": 1.0, "LIVE": 0.0}

    def test_without_a_promoted_model_there_is_no_model_age(self, client):
        assert not any(name == "kalshiweb_model_age_seconds" for name, _ in scrape(client))


@pytest.mark.django_db
def test_the_feed_reports_its_running_counts_as_counters(client):
    detail = {"connected": False, "last_frame_age_seconds": None, "reconnects": 4, "gaps": 0, "markets": 12}
    Heartbeat.objects.beat(FEED_COMPONENT, now=NOW, detail=detail)
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert "# TYPE kalshiweb_feed_reconnects_total counter" in body
    samples = parse(body)
    assert value(samples, "kalshiweb_feed_reconnects_total") == 4.0
    assert value(samples, "kalshiweb_feed_connected") == 0.0
    assert value(samples, "kalshiweb_feed_markets") == 12.0
    assert not any(name == "kalshiweb_feed_last_frame_age_seconds" for name, _ in samples)  # no frame yet


@pytest.mark.django_db
def test_every_weather_fetch_and_failure_is_counted_per_source(client):
    source = FakeSource(name="metrics-fake")  # down for Chicago
    labels = {"source": source.name}
    before = scrape(client)
    ingest_forecasts(sources=[source], cities=cities("New York", "Chicago", "Denver"), now=NOW, days_ahead=1)
    after = scrape(client)
    for name, expected in (
        ("kalshiweb_weather_fetches_total", 3),
        ("kalshiweb_weather_fetch_failures_total", 1),
        ("kalshiweb_weather_fetch_seconds_count", 3),
    ):
        assert value(after, name, **labels) - value(before, name, **labels) == expected, name


@pytest.mark.django_db(transaction=True)
@pytest.mark.anyio
async def test_an_open_dashboard_socket_is_counted_until_it_closes(django_user_model):
    def staff_session() -> list[tuple[bytes, bytes]]:
        client = Client()
        client.force_login(django_user_model.objects.create_user("desk", "", "pw", is_staff=True))
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        return [(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())]

    headers = await sync_to_async(staff_session)()
    before = await sync_to_async(scrape)()
    communicator = WebsocketCommunicator(application, "/ws/trading/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    during = await sync_to_async(scrape)()
    await communicator.disconnect()
    after = await sync_to_async(scrape)()
    await sync_to_async(connections.close_all)()
    opened = value(before, "kalshiweb_websocket_connections", stream="trading")
    assert value(during, "kalshiweb_websocket_connections", stream="trading") == opened + 1
    assert value(after, "kalshiweb_websocket_connections", stream="trading") == opened
    accepted = value(before, "kalshiweb_websocket_connections_total", stream="trading")
    assert value(after, "kalshiweb_websocket_connections_total", stream="trading") == accepted + 1


# Several processes ---------------------------------------------------------------------------------

INCREMENT = """
import django, os, sys
django.setup()
from kalshiweb.metrics import WEATHER_FETCHES, WEBSOCKET_CONNECTIONS
WEATHER_FETCHES.labels("multi").inc(int(sys.argv[1]))
WEBSOCKET_CONNECTIONS.labels("multi").inc()
print(os.getpid(), flush=True)
if sys.argv[2] == "killed":
    os._exit(0)  # no clean exit (killed, or a pool process): only forget_process can drop its live gauges
"""


def run_process(directory: Path, *args: str) -> int:
    """A real process with the multiprocess directory set, as the Procfile starts each; returns its pid."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "DJANGO_SETTINGS_MODULE": "kalshiweb.settings"}
    done = subprocess.run(
        [sys.executable, "-c", INCREMENT, *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return int(done.stdout.split()[-1])


@pytest.mark.django_db
def test_metrics_sums_what_every_process_counted(client, tmp_path, monkeypatch):
    killed = run_process(tmp_path, "2", "killed")
    ended = run_process(tmp_path, "3", "ended")
    assert killed != ended
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    TradingState.load()
    samples = scrape(client)
    assert value(samples, "kalshiweb_weather_fetches_total", source="multi") == 5.0  # both processes' counts
    # A live gauge counts the processes not known to have ended: the one that exited cleanly forgot itself ...
    assert value(samples, "kalshiweb_websocket_connections", stream="multi") == 1.0
    # ... next to the gauges read from the database, which are the same whichever process serves them.
    assert value(samples, "kalshiweb_trading_state", state="halted") == 1.0

    forget_process(killed)  # as Celery's worker_process_shutdown does for a pool process
    samples = scrape(client)
    assert value(samples, "kalshiweb_websocket_connections", stream="multi") == 0.0
    assert value(samples, "kalshiweb_weather_fetches_total", source="multi") == 5.0  # counts outlive processes

    assert clear_multiprocess_dir() > 0  # the release step: a new run counts from nothing
    assert value(scrape(client), "kalshiweb_weather_fetches_total", source="multi") == 0.0


def test_without_the_directory_a_process_exports_its_own_registry(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert scrape_registry() is REGISTRY
    assert scrape_registry(str(tmp_path)) is not REGISTRY
