"""Training time of the bracket model on the shared history, as the daily task runs it.

Full size imports ../shared/data (Kalshi events, markets and tapes; observed
highs; archived forecasts) with ``importhistory``'s own code, then times
``train_bracket_model`` as of 2025-03-01 17:00 UTC (noon in New York, the
day after the data end) over every series with events in the last 56 days:
walk-forward validation of three decision slots per series, the final fits
and the stored artifact. Peak memory is the growth of resident set size over
the process before training. Quick size trains on a small simulated New York.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from benchmarks import SHARED_DATA_DIR, Figure
from benchmarks.bench_import_trades import RssSampler
from kalshiweb.history import import_history
from markets.models import Event, Series, Trade
from prediction.models import ModelVersion
from prediction.services.training import train_bracket_model
from weather.models import ForecastSnapshot, Observation

AS_OF = datetime(2025, 3, 1, 17, tzinfo=UTC)


def run(*, quick: bool) -> list[Figure]:
    if quick or not SHARED_DATA_DIR.is_dir():
        return _simulated(note="" if quick else f"no shared data at {SHARED_DATA_DIR}: a simulated city instead")
    started = time.perf_counter()
    import_history(SHARED_DATA_DIR, now=AS_OF)
    imported = time.perf_counter() - started
    try:
        figures = _train(note="shared history")
    finally:
        _clean()
    return [Figure("import of the shared history (not timed below)", imported, "s"), *figures]


def _simulated(*, note: str) -> list[Figure]:
    from prediction.tests.world import build_world

    build_world(first_day=date(2024, 1, 1), first_event=date(2024, 11, 1), last_day=date(2025, 2, 28))
    try:
        return _train(note=note or "simulated New York")
    finally:
        _clean()


def _train(*, note: str) -> list[Figure]:
    with RssSampler() as memory:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = train_bracket_model(now=AS_OF)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    version = outcome.version
    series = version.params["series"]
    overall = version.validation_scores["overall"]
    return [
        Figure("training wall time", wall, "s", f"{len(series)} series x 3 decision slots; {note}"),
        Figure("training CPU time", cpu, "s"),
        Figure("per series and slot", wall / (3 * len(series)), "s"),
        Figure("validation events scored", overall["n_events"], "events", "walk-forward, last 56 days"),
        Figure("training window", _training_days(version), "days"),
        Figure("artifact size", len(bytes(version.artifact or b"")) / 1024, "KiB", "zlib-compressed JSON"),
        Figure("peak memory growth", (memory.peak - memory.baseline) / 2**20, "MiB", "resident set size"),
    ]


def _training_days(version: ModelVersion) -> float:
    if version.training_start is None or version.training_end is None:
        return 0.0
    return float((version.training_end - version.training_start).days + 1)


def _clean() -> None:
    ModelVersion.objects.all().delete()
    Trade.objects.all().delete()
    Event.objects.all().delete()
    Series.objects.all().delete()
    ForecastSnapshot.objects.all().delete()
    Observation.objects.all().delete()
