"""Give each xdist worker its own Redis database.

With REDIS_URL set, the cache, the channel layer and Celery's broker all live in one Redis database. Tests
that reset the cache (``cache.clear()`` is FLUSHDB there) would otherwise wipe another worker's throttle
counts and channel-layer queues mid-test. pytest-django has read the settings before any conftest runs, so
the suite's ``pytest_configure`` moves every Redis user of this worker to database 1 + N for worker gwN:
the settings derived from REDIS_URL, Celery's configuration, and the environment its subprocesses inherit.
It empties that database once, so an earlier run's keys cannot leak in.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

_WORKER = re.compile(r"gw(\d+)")
_DATABASES = 16  # Redis's default number of databases


def worker_redis_url(url: str, worker: str) -> str:
    """``url`` with its database number replaced by this xdist worker's own; unchanged outside a worker."""
    number = _WORKER.fullmatch(worker)
    if number is None:
        return url
    database = 1 + int(number.group(1))
    if database >= _DATABASES:
        raise RuntimeError(f"xdist worker {worker} needs Redis database {database}; Redis has {_DATABASES}")
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def use_worker_redis(settings: Any, celery_app: Any) -> None:
    """Point this process's Redis users at the worker's database (before any of them has connected)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not settings.REDIS_URL or not _WORKER.fullmatch(worker):
        return
    url = worker_redis_url(settings.REDIS_URL, worker)
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [url]
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    celery_app.conf.broker_url = celery_app.conf.result_backend = url
    import redis

    redis.Redis.from_url(url).flushdb()
