"""One full forecast fetch-and-store cycle: 20 cities times every source, on simulated provider APIs.

What a ``fetch_forecasts_task`` run costs: wall and CPU time, database queries
(all writes happen in the calling thread, so they are all counted) and rows
stored. The providers are the simulated world in benchmarks/weather_world.py,
so no network time is included: this is our own cost.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import Figure
from benchmarks.weather_world import WeatherWorld
from weather.models import City, ForecastSnapshot
from weather.services.forecasts import ingest_forecasts
from weather.sources.base import WeatherSource
from weather.sources.nws import NwsSource
from weather.sources.open_meteo import OpenMeteoEnsembleSource, OpenMeteoSource
from weather.sources.visual_crossing import VisualCrossingSource


def sources(world: WeatherWorld) -> list[WeatherSource]:
    transport = world.transport
    return [
        NwsSource(app_name="kalshiweb-bench", contact="bench@example.invalid", transport=transport),
        OpenMeteoSource(transport=transport),
        OpenMeteoEnsembleSource(transport=transport),
        VisualCrossingSource(api_key="bench-key-123456", transport=transport),
    ]


def run(*, quick: bool) -> list[Figure]:
    cities = list(City.objects.order_by("name"))[: 3 if quick else 20]
    now = datetime.now(tz=UTC)
    world = WeatherWorld(zones={f"{c.latitude:.4f},{c.longitude:.4f}": c.timezone for c in cities}, now=now)
    providers = sources(world)
    cycles = 1 if quick else 3
    walls, cpus, queries, stored = [], [], [], []
    for cycle in range(cycles):
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            report = ingest_forecasts(
                sources=providers, cities=cities, now=now.replace(microsecond=cycle), days_ahead=2
            )
        walls.append(time.perf_counter() - started_wall)
        cpus.append(time.process_time() - started_cpu)
        queries.append(len(captured.captured_queries))
        stored.append(report.stored)
        failures = [f for run in report.runs.values() for f in run.failures]
        if failures or not report.stored:
            raise RuntimeError(f"the simulated cycle failed: {failures[:3]}")
    ForecastSnapshot.objects.all().delete()
    n = len(cities)
    return [
        Figure(
            "city and source pairs per cycle", n * len(providers), "fetches", f"{n} cities, {len(providers)} sources"
        ),
        Figure("provider requests per cycle", world.requests / cycles, "requests"),
        Figure("wall time per cycle", min(walls), "s", "best of runs; no network latency"),
        Figure("CPU time per cycle", min(cpus), "s", "all threads"),
        Figure("forecast rows stored per cycle", stored[-1], "rows"),
        Figure("database queries per cycle", queries[-1], "queries"),
        Figure("database queries per stored row", queries[-1] / stored[-1], "queries/row"),
    ]
