"""Each xdist worker keeps its Redis keys to itself (see kalshiweb/tests/workers.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches

from kalshiweb.tests.workers import worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "gw1", "redis://127.0.0.1:6379/2"),
        ("rediss://cache:6380/5?ssl_cert_reqs=none", "gw2", "rediss://cache:6380/3?ssl_cert_reqs=none"),
        ("redis://127.0.0.1:6379/0", "", "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "master", "redis://127.0.0.1:6379/0"),
    ],
)  # fmt: skip
def test_a_worker_gets_the_database_after_its_number(url, worker, expected):
    assert worker_redis_url(url, worker) == expected


def test_more_workers_than_redis_has_databases_is_an_error():
    with pytest.raises(RuntimeError, match="gw15 needs Redis database 16"):
        worker_redis_url("redis://127.0.0.1:6379/0", "gw15")


@pytest.mark.redis
def test_this_workers_cache_layer_and_broker_share_its_own_database():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        pytest.skip("runs under an xdist worker (-n 1 or more)")
    url = worker_redis_url(os.environ["REDIS_URL"], worker)
    assert url == settings.REDIS_URL == os.environ["REDIS_URL"] and not url.endswith("/0")
    assert settings.CACHES["default"]["LOCATION"] == url
    layers: Any = settings.CHANNEL_LAYERS
    assert layers["default"]["CONFIG"]["hosts"] == [url]
    redis_cache: Any = caches["default"]  # Django's RedisCache: its client says which database it talks to
    redis_cache.set("worker-owned", worker)
    assert redis_cache._cache.get_client().connection_pool.connection_kwargs["db"] == int(url.rsplit("/", 1)[1])
