"""Cost of one /health/ request (all seven checks), as scraped by monitors every few seconds."""

from __future__ import annotations

import time

from django.test import Client
from django.utils import timezone

from benchmarks import Figure
from kalshiweb.health import WORKER_COMPONENT, run_health_checks
from kalshiweb.models import Heartbeat


def run(*, quick: bool) -> list[Figure]:
    Heartbeat.objects.beat(WORKER_COMPONENT, now=timezone.now())
    rounds = 20 if quick else 300
    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/health/")  # warm caches and connections

    started = time.perf_counter()
    for _ in range(rounds):
        response = client.get("/health/")
        if response.status_code != 200:  # timing an error page would be meaningless
            raise RuntimeError(f"/health/ answered {response.status_code}: {response.content[:200]!r}")
    per_request = (time.perf_counter() - started) / rounds

    started = time.perf_counter()
    for _ in range(rounds):
        run_health_checks(now=timezone.now())
    per_check = (time.perf_counter() - started) / rounds

    return [
        Figure("health endpoint latency", per_request * 1000, "ms/request", f"{rounds} requests"),
        Figure("health endpoint throughput", 1 / per_request, "requests/s"),
        Figure("health checks alone", per_check * 1000, "ms/run"),
    ]
