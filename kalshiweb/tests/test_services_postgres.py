"""Checks that prove the second CI pass really runs on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from trading.models import TradingState, TradingStateChange
from trading.services import set_trading_state

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert int(cursor.fetchone()[0].split(".")[0]) >= 13


@pytest.mark.django_db(transaction=True)
def test_concurrent_state_changes_serialise_on_the_row_lock():
    """Two operators switching at once both land, one after the other, each audited."""
    TradingState.load()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def switch(state: str) -> None:
        try:
            barrier.wait()
            set_trading_state(state=state, reason=f"to {state}", actor=state, now=timezone.now())
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=switch, args=(s,)) for s in ("active", "reduce_only")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    changes = list(TradingStateChange.objects.order_by("id"))
    assert len(changes) == 2
    # The second change saw the first one's result, so the chain is unbroken.
    assert changes[1].from_state == changes[0].to_state
    assert TradingState.load().state == changes[1].to_state
