"""The API and the dashboard after a year of trading, under concurrent load on loopback; goal p95 under 50 ms.

A year of generated history (see benchmarks.web_world: 20 cities x 366
climate days x 6 brackets, books, hourly predictions, forecasts,
observations, the DRY ledger and a decision log of 3 cycles an hour over
every open market, about 5 million rows) is written to the benchmark's
database. uvicorn then serves ``kalshiweb.asgi:application`` on loopback
with two web processes per CPU and one more, as deploy/production.env
advises (see benchmarks.web_load), an operator logs in (session cookie for
pages, token for the API), and each target gets a few requests one at a
time, then FULL_LOAD's requests with as many in flight as there are CPUs:
concurrent, every CPU busy, no request waiting for one. That is the load the
goal is for. Last, every target again with 8 in flight (SATURATING_LOAD):
requests queue, and the figures say what a burst beyond the server's size
costs.

Targets are found at run time, so new endpoints and pages are measured
without editing this file: every endpoint the API root lists (but the schema,
its docs page and the token endpoint: tooling, not what traders and programs
poll), and every dashboard page without a parameter in its URL, plus the
status page ``/``.

Figures per target: p50 and p95 under load (ms), the note saying the p95
against the goal, the p50 of requests sent alone (the service time), the
queries one request runs and their time in the database (measured in this
process with Django's test client), and the answer's size. Then p50, p95
and throughput over all requests, the same at saturation, and the time
generating took.

Quick size: a week, 2 cities, a handful of requests per target.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from benchmarks import Figure
from benchmarks.web_load import Load, Target, Timing, cpus, log_in, measure, overall, processes, serving
from benchmarks.web_world import FULL, QUICK, World, build, clean_up
from kalshiweb.health import WORKER_COMPONENT
from kalshiweb.models import Heartbeat
from kalshiweb.progress import bar

GOAL_MS = 50.0
# The goal's load: as many requests in flight as there are CPUs, so every CPU is busy and a request never
# waits for one (the load generator shares them, as a browser on the same machine would).
FULL_LOAD = Load(requests=100, concurrency=0, alone=10, budget_seconds=20)  # concurrency: cpus()
# Then past saturation: more in flight than processes, so requests queue; what a burst costs.
SATURATING_LOAD = Load(requests=40, concurrency=8, alone=0, budget_seconds=10)
QUICK_LOAD = Load(requests=2, concurrency=2, alone=0, budget_seconds=2)
# Not polled by traders or programs: the OpenAPI schema (built per request), its docs page, the token POST.
API_LEFT_OUT = {"api-schema", "api-docs", "api-token"}
OPERATOR = "bench-web-operator"


@dataclass(frozen=True)
class Cost:
    status: int
    queries: int
    database_ms: float


def run(*, quick: bool) -> list[Figure]:
    load = QUICK_LOAD if quick else replace(FULL_LOAD, concurrency=cpus())
    started = time.perf_counter()
    with bar(sys.stderr) as progress:
        world = build(QUICK if quick else FULL, now=timezone.now(), progress=progress)
    generated = time.perf_counter() - started
    password = secrets.token_urlsafe(16)
    operator = get_user_model().objects.create_superuser(OPERATOR, f"{OPERATOR}@example.invalid", password)
    try:
        probed = {target: _cost(operator, target) for target in api_targets() + page_targets()}
        costs = {target: cost for target, cost in probed.items() if cost.status in target.statuses}
        left_out = [f"{t.path} ({cost.status})" for t, cost in probed.items() if t not in costs]
        started = time.perf_counter()
        with serving() as base, bar(sys.stderr) as progress:
            credentials = log_in(base, OPERATOR, password)
            # Health fails without a recent worker heartbeat: beat, and measure it first (the API root lists it first).
            Heartbeat.objects.beat(WORKER_COMPONENT, now=timezone.now())
            timings = measure(base, credentials, list(costs), load, progress)
            saturated = [] if quick else measure(base, credentials, list(costs), SATURATING_LOAD, progress)
        loaded = time.perf_counter() - started
    finally:
        operator.delete()
        clean_up(world)
    figures = _figures(world, timings, costs, generated=generated, loaded=loaded, concurrency=load.concurrency)
    if saturated:
        figures += _saturation_figures(saturated)
    if left_out:
        figures.append(Figure("URLs not measured", len(left_out), "URLs", "answer GET with: " + ", ".join(left_out)))
    return figures


def _saturation_figures(timings: list[Timing]) -> list[Figure]:
    total = overall(timings)
    worst = max(timings, key=lambda t: t.p95)
    load = f"{SATURATING_LOAD.concurrency} in flight on {processes()} web processes, {cpus()} CPUs: requests queue"
    return [
        Figure(f"saturated ({SATURATING_LOAD.concurrency} in flight): p50", total["p50"], "ms", load),
        Figure(
            f"saturated ({SATURATING_LOAD.concurrency} in flight): p95",
            total["p95"],
            "ms",
            f"{total['requests']} requests; slowest: {worst.target.label} p95 {worst.p95:,.0f} ms",
        ),
        Figure(f"saturated ({SATURATING_LOAD.concurrency} in flight): throughput", total["rate"], "requests/s"),
    ]


def api_targets() -> list[Target]:
    """Every endpoint the API root lists, but tooling (see API_LEFT_OUT)."""
    from kalshiweb.api import ENDPOINTS

    health = frozenset({200, 503})  # 503 is health's meaningful answer when a component is down
    return [
        Target(f"api {label}", reverse(name), api=True, statuses=health if "health" in name else frozenset({200}))
        for label, name in ENDPOINTS
        if name not in API_LEFT_OUT
    ]


def page_targets() -> list[Target]:
    """The status page and every dashboard page whose URL takes no parameter (detail pages need an object)."""
    from dashboard.urls import urlpatterns

    names = ["home"] + [p.name for p in _flat(urlpatterns) if p.name and not p.pattern.converters]
    return [Target(f"page {name.removeprefix('dashboard-')}", reverse(name), api=False) for name in names]


def _flat(patterns: Sequence[URLPattern | URLResolver]) -> list[URLPattern]:
    found: list[URLPattern] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if not pattern.pattern.converters:
                found += _flat(pattern.url_patterns)
        else:
            found.append(pattern)
    return found


def _load_average() -> str:
    """Other work on the machine slows every figure here: say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


class _QueryClock:
    """Counts the queries run through a connection and times each with ``perf_counter``.

    Django's own query log keeps each time rounded to the millisecond, which made
    most of these queries 0.0 ms and a page's 24 queries "0.0 ms in the database".
    """

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def _cost(operator: User, target: Target) -> Cost:
    """Queries one GET runs, and their time in the database, through Django's test client in this process.

    A 4xx leaves the URL out: it is not read with a bare GET (a form's POST-only action answers
    405, a comparison needs the runs it compares). A 5xx fails the benchmark: a page that breaks
    under a year of data is what it is here to find.
    """
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(operator)
    clock = _QueryClock()
    with connection.execute_wrapper(clock):  # one request only: some take a minute on a year of data
        response = client.get(target.path)
    if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR and response.status_code not in target.statuses:
        raise RuntimeError(f"{target.path} answered {response.status_code}: {response.content[:300]!r}")
    return Cost(response.status_code, clock.queries, clock.seconds * 1000)


def _figures(
    world: World, timings: list[Timing], costs: dict[Target, Cost], *, generated: float, loaded: float, concurrency: int
) -> list[Figure]:
    figures = []
    for timing in timings:
        cost = costs[timing.target]
        verdict = "meets" if timing.p95 < GOAL_MS else f"OVER ({timing.p95 / GOAL_MS:.1f}x)"
        alone = f"alone p50 {statistics.median(timing.alone_ms):.1f} ms" if timing.alone_ms else "not run alone"
        note = (
            f"goal p95 < {GOAL_MS:.0f} ms: {verdict}; {len(timing.ms)} requests; {alone}; {cost.queries} queries, "
            f"{cost.database_ms:.1f} ms in the database; {timing.size / 1024:.0f} kB"
        )
        figures.append(Figure(f"{timing.target.label} ({timing.target.path}) p50", timing.p50, "ms"))
        figures.append(Figure(f"{timing.target.label} p95", timing.p95, "ms", note))
    total = overall(timings)
    over = [t.target.label for t in timings if t.p95 >= GOAL_MS]
    verdict = (
        f"{len(over)} of {len(timings)} targets over the goal: {', '.join(over)}" if over else "every target meets"
    )
    rows = sum(world.rows.values())
    biggest = max(world.rows, key=lambda name: world.rows[name])
    where = connection.vendor
    return [
        *figures,
        Figure("all targets: p50", total["p50"], "ms", f"{total['requests']} requests, {concurrency} in flight"),
        Figure("all targets: p95", total["p95"], "ms", f"goal < {GOAL_MS:.0f} ms; {verdict}"),
        Figure(
            "all targets: throughput",
            total["rate"],
            "requests/s",
            f"uvicorn, {processes()} web processes on {cpus()} CPUs, {where}; {_load_average()}",
        ),
        Figure("rows generated", rows, "rows", f"{len(world.cities)} cities; {biggest}: {world.rows[biggest]:,}"),
        Figure("generating the data", generated, "s", f"{rows / generated:,.0f} rows/s"),
        Figure("serving and measuring", loaded, "s"),
    ]
