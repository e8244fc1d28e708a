"""schemathesis against our own OpenAPI schema: no request an operator can send makes the API answer 5xx.

In process (Django's WSGI application, no network), as an operator with a token, against a small world in
the database so lists and details do real work. Bounded and deterministic: a fixed number of derandomized
examples per operation, so CI runs it in well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from backtesting.tests.test_api import finished_run
from prediction.models import ModelVersion
from trading.models import DecisionLogEntry, Fill, Position, Reconciliation, TradingCycle
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, book, build_world
from weather.models import RunningExtreme
from weather.tests.factories import ForecastSnapshotFactory, ObservationFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
EXAMPLES = 25


@pytest.fixture
def operator_token(db, django_user_model, keep_the_test_connection) -> str:
    cache.clear()  # the token endpoint's throttle counts per process
    user = django_user_model.objects.create_superuser("fuzzer", password="pw-for-tests-only")
    _world()
    return Token.objects.create(user=user).key


@pytest.fixture
def keep_the_test_connection() -> Iterator[None]:
    """Requests go through the bare WSGI handler, whose request signals close a connection inside a transaction:
    on PostgreSQL that is the test's own. Django's test client turns the same signal off for the same reason."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _world() -> None:
    """A market with books, a prediction, orders, fills, a position, decisions, forecasts, observations and a
    finished backtest with its trades."""
    world = build_world()
    city, day = world.event.series.city, world.event.target_date
    assert city is not None and day is not None
    for market in world.markets:
        book(market, yes=[("0.40", "10")], no=[("0.55", "7")])
    cycle = TradingCycle.objects.create(mode="DRY", strategy="edge", as_of=NOW)
    for n, market in enumerate(world.markets):
        order = OrderFactory.create(market=market, status="resting", exchange_order_id=f"paper-{n}")
        Fill.objects.create(
            trade_id=f"t-{n}", mode="DRY", order=order, ticker=market.ticker, book_side="bid", price=Decimal("0.4"),
            count=Decimal(1), is_taker=True, created_time=NOW, recorded_at=NOW,
        )  # fmt: skip
        Position.objects.create(mode="DRY", ticker=market.ticker, yes_count=Decimal(1), updated_at=NOW)
        DecisionLogEntry.objects.create(
            cycle=cycle, mode="DRY", at=NOW, strategy="edge", event_ticker=world.event.event_ticker,
            ticker=market.ticker, verdict="ordered",
        )  # fmt: skip
        ForecastSnapshotFactory.create(city=city, target_date=day, source=f"src-{n}")
        ObservationFactory.create(city=city, date=day - timedelta(days=n))
        at = NOW - timedelta(hours=n)
        RunningExtreme.objects.create(city=city, date=day, observed_at=at, recorded_at=at)
    Reconciliation.objects.create(mode="DRY", started_at=NOW)
    finished_run(n_trades=3)
    section = {
        "n_events": 56, "brier_model": 0.1812, "brier_market": 0.1905, "log_loss_model": 0.52,
        "log_loss_market": 0.55, "brier_model_minus_market": -0.0093, "brier_model_minus_market_ci": [-0.02, 0.001],
    }  # fmt: skip
    ModelVersion.objects.update(validation_scores={"overall": section, "KXHIGHTEST 10:00 on the day": section})


def _to_an_existing_row(case: Case) -> None:
    """Half the detail requests (even generated ids) ask for a row the world made, so details do real work."""
    generated = case.path_parameters.get("id") if case.path_parameters else None
    if not isinstance(generated, int) or generated % 2:
        return
    view = resolve(case.operation.path.replace("{id}", "1")).func
    rows = view.cls(action="retrieve").get_queryset()  # type: ignore[attr-defined]
    keys = list(rows.order_by("pk").values_list("pk", flat=True))
    if keys:
        case.path_parameters["id"] = keys[generated // 2 % len(keys)]


FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def _call(case: Case, token: str) -> None:
    _to_an_existing_row(case)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


# Two tests, so the suite's two workers share the operations.
@schema.include(method="GET").parametrize()
@FUZZ
def test_no_read_makes_the_api_fail(case: Case, operator_token: str) -> None:
    _call(case, operator_token)


@schema.exclude(method="GET").parametrize()
@FUZZ
def test_no_change_makes_the_api_fail(case: Case, operator_token: str) -> None:
    _call(case, operator_token)
