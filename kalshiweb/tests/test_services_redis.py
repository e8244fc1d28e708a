"""The real channel layer and Celery broker, through Redis (run by .ci/run's second pass)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import start_worker
from channels.layers import get_channel_layer
from django.conf import settings

from kalshiweb.celery import app
from kalshiweb.tasks import ping_task

pytestmark = pytest.mark.redis


def test_the_channel_layer_round_trips_through_redis():
    from channels_redis.core import RedisChannelLayer

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)

    async def round_trip() -> dict[str, object]:
        channel = await layer.new_channel("test.")
        await layer.send(channel, {"type": "test.message", "value": 42})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)() == {"type": "test.message", "value": 42}


def test_group_messages_reach_every_member_through_redis():
    layer = get_channel_layer()

    async def fan_out() -> list[dict[str, object]]:
        first, second = await layer.new_channel("a."), await layer.new_channel("b.")
        for channel in (first, second):
            await layer.group_add("test-group", channel)
        await layer.group_send("test-group", {"type": "hello"})
        received = [await layer.receive(first), await layer.receive(second)]
        for channel in (first, second):
            await layer.group_discard("test-group", channel)
        return received

    assert async_to_sync(fan_out)() == [{"type": "hello"}, {"type": "hello"}]


@pytest.fixture
def real_worker():
    """A Celery worker thread consuming from the configured (Redis) broker."""
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


def test_a_task_runs_on_a_real_worker_through_the_redis_broker(real_worker):
    assert app.conf.broker_url == settings.REDIS_URL
    assert app.connection_for_write().transport_cls == "redis"
    result = ping_task.delay()
    assert result.get(timeout=20) == "pong"
    assert result.successful()
    assert real_worker.hostname


@pytest.mark.django_db
def test_the_health_endpoint_reports_redis(client):
    body = client.get("/health/").json()
    assert body["components"]["channel_layer"]["detail"] == "RedisChannelLayer round-trip ok"
    assert body["components"]["broker"]["detail"] == "redis broker reachable"
