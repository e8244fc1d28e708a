"""A full trading decision cycle for 20 cities x 6 brackets, in CPU time, with no network (DRY, the paper broker).

Seeded in the database: 20 active cities, each with its own series and an
open event of six brackets (two tails, four 2-degree ranges), a stored order
book of three levels a side per market, and the promoted model's prediction,
shifted from the market's prices in most cities so that the model-taker
finds edges and orders. Trading is resumed and the risk limits are the
defaults.

Timed, CPU (``time.process_time``) and wall (``time.perf_counter``), median
and p95 over repeats:

* the pure core: ``trading.decide.decide`` on the 120-market Snapshot built
  once by ``build_snapshot``; goal under 50 ms;
* ``build_snapshot`` alone (the reads the cycle starts with);
* the full cycle: ``trading.cycle.run_cycle`` with the PaperBroker, each
  repeat at a new decision time (a minute later: never a rerun of a cycle)
  and from an empty DRY ledger, so every repeat does the same work: catch
  up, snapshot, kill-switch triggers, decide, reserve and paper-fill every
  intent, log 120 decisions. Goal under 50 ms CPU. On a server database the
  CPU time is this process's only (the server's is not counted).

Quick size: the same world, fewer repeats.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import Figure
from benchmarks.ladders import ladder_markets, normal_probabilities
from benchmarks.ladders import rungs as ladder_rungs
from markets.models import Event, Market, OrderBookSnapshot, Series
from prediction.models import BracketProbability, ModelVersion, Prediction
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.decide import decide
from trading.models import Account, Fill, Order, Position, RiskLimits, TradingCycle, TradingState
from trading.services import resume_trading
from trading.snapshot import build_snapshot
from trading.strategies import strategy_named
from weather.models import City

CITIES = 20
BRACKETS = 6  # two tails and four 2-degree ranges
LEVELS = 3  # per side of each stored book
GOAL_MS = 50
MODE = "DRY"
# 11:00 in New York on the climate day; the markets close at the day's end there.
NOW = datetime(2026, 1, 15, 16, tzinfo=UTC)
CLOSE = datetime(2026, 1, 16, 4, 59, tzinfo=UTC)
TICKER_PREFIX = "KXBENCHCYC"
CENT = Decimal("0.01")


@dataclass
class Timings:
    cpu_ms: list[float]
    wall_ms: list[float]


def run(*, quick: bool) -> list[Figure]:
    decide_repeats, snapshot_repeats, cycle_repeats = (5, 2, 3) if quick else (300, 30, 30)
    if Order.objects.filter(mode=MODE).exists() or Position.objects.filter(mode=MODE).exists():
        raise RuntimeError("the benchmark needs an empty DRY ledger (it resets it between cycles)")
    previous_state = TradingState.load()
    world = _seed(random.Random(20260115))
    try:
        limits_row = RiskLimits.load()
        resume_trading(reason="benchmark", actor="benchmark", now=NOW - timedelta(hours=1))
        strategy = strategy_named("model-taker", sizing=limits_row.sizing())

        snapshot = build_snapshot(mode=MODE, now=NOW, limits=limits_row.limits(), status=TradingState.load().status)
        markets = sum(len(e.markets) for e in snapshot.events)
        if (len(snapshot.events), markets) != (CITIES, CITIES * BRACKETS):
            raise RuntimeError(f"the snapshot saw {len(snapshot.events)} events, {markets} markets")
        decision = decide(snapshot, strategy)
        if not decision.intents:
            raise RuntimeError("decide() made no intent: the seeded world has no edge")
        core = _timed(lambda: decide(snapshot, strategy), decide_repeats)
        reads = _timed(
            lambda: build_snapshot(mode=MODE, now=NOW, limits=limits_row.limits(), status=snapshot.status),
            snapshot_repeats,
        )

        cycles: list[TradingCycle] = []
        moments = iter(NOW + timedelta(minutes=k) for k in range(1, 2 * cycle_repeats + 3))

        def one_cycle() -> None:
            cycles.append(run_cycle(PaperBroker(), now=next(moments), strategy=strategy))

        full = _timed(one_cycle, cycle_repeats, before_each=_reset_ledger)
        # The cycles after it, holding what the first bought: what a trading day mostly runs.
        _reset_ledger()
        one_cycle()
        placed_before = Order.objects.filter(mode=MODE).count()
        steady = _timed(one_cycle, cycle_repeats)
        steady_orders = (Order.objects.filter(mode=MODE).count() - placed_before) / cycle_repeats
        _reset_ledger()
        with CaptureQueriesContext(connection) as captured:  # apart from the timed runs: capturing costs time
            one_cycle()
        queries = len(captured.captured_queries)
        first_of_day = [*cycles[:cycle_repeats], cycles[-1]]
        for cycle in cycles:
            if cycle.outcome != TradingCycle.Outcome.DONE or (cycle in first_of_day and not cycle.placed):
                raise RuntimeError(f"cycle at {cycle.as_of}: {cycle.outcome}, {cycle.placed} placed; {cycle.detail}")
        last = cycles[-1]
        fills = Fill.objects.filter(mode=MODE).count()
        logged = last.decisions.count()
    finally:
        _clean_up(world, previous_state)

    cpu = _median(full.cpu_ms)
    verdict = "meets the goal" if cpu < GOAL_MS else f"OVER the {GOAL_MS} ms goal ({cpu / GOAL_MS:.1f}x)"
    where = f"{connection.vendor}, this process only" if connection.vendor != "sqlite" else "sqlite, in process"
    n = f"{CITIES} events x {BRACKETS} brackets"
    return [
        Figure("decide(): CPU median", _median(core.cpu_ms), "ms", f"goal < {GOAL_MS}; {n}, {decide_repeats} runs"),
        Figure("decide(): CPU p95", _p95(core.cpu_ms), "ms"),
        Figure("decide(): wall median", _median(core.wall_ms), "ms"),
        Figure("build_snapshot(): CPU median", _median(reads.cpu_ms), "ms", f"{snapshot_repeats} runs"),
        Figure("build_snapshot(): wall median", _median(reads.wall_ms), "ms"),
        Figure(
            "run_cycle (DRY, paper broker), first of the day: CPU median",
            cpu,
            "ms",
            f"goal < {GOAL_MS}: {verdict}; {where}",
        ),
        Figure("run_cycle: CPU p95", _p95(full.cpu_ms), "ms", f"{cycle_repeats} cycles, a minute apart"),
        Figure("run_cycle: wall median", _median(full.wall_ms), "ms", "no network: DRY"),
        Figure("run_cycle: wall p95", _p95(full.wall_ms), "ms"),
        Figure(
            "run_cycle, holding the first's positions: CPU median",
            _median(steady.cpu_ms),
            "ms",
            f"goal < {GOAL_MS}; {steady_orders:.1f} new orders a cycle",
        ),
        Figure("run_cycle, holding: CPU p95", _p95(steady.cpu_ms), "ms"),
        Figure("database queries per cycle", queries, "queries", "the first cycle of the day"),
        Figure("intents per cycle", last.intents, "intents", f"of {last.markets} markets in {last.events} events"),
        Figure("orders placed per cycle", last.placed, "orders", f"{fills} paper fills; {len(decision.passes)} passes"),
        Figure("decisions logged per cycle", logged, "entries"),
    ]


def _timed(call: Callable[[], object], repeats: int, before_each: Callable[[], None] | None = None) -> Timings:
    timings = Timings([], [])
    for _ in range(repeats):
        if before_each is not None:
            before_each()
        cpu, wall = time.process_time(), time.perf_counter()
        call()
        timings.cpu_ms.append((time.process_time() - cpu) * 1000)
        timings.wall_ms.append((time.perf_counter() - wall) * 1000)
    return timings


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)], 1)


def _reset_ledger() -> None:
    """An empty DRY ledger (the account is recreated with its starting cash on first use), so cycles compare."""
    Fill.objects.filter(mode=MODE).delete()
    Position.objects.filter(mode=MODE).delete()
    Order.objects.filter(mode=MODE).delete()
    Account.objects.filter(mode=MODE).delete()


@dataclass
class World:
    cities: list[City]
    series: list[Series]
    model: ModelVersion


def _seed(rng: random.Random) -> World:
    model = ModelVersion.objects.create(
        name="bench-cycle", version=1, kind="statistical", status="promoted", trained_at=NOW - timedelta(days=1)
    )
    if ModelVersion.objects.promoted().first() != model:
        raise RuntimeError("another promoted model is in the database: the cycle would not read the benchmark's")
    cities, series, books, probabilities = [], [], [], []
    for n in range(CITIES):
        city = City.objects.create(
            name=f"Bench Cycle City {n:02d}",
            high_series_ticker=f"{TICKER_PREFIX}{n:02d}",
            station_icao="KTST",
            station_name="Bench Airport",
            nws_cli_code="TST",
            nws_cli_office="OKX",
            ghcn_id=f"USW000{n:05d}",
            latitude=Decimal("40.0000"),
            longitude=Decimal("-74.0000"),
            elevation_m=Decimal("10.0"),
            timezone="America/New_York",
            standard_utc_offset_minutes=-300,
            station_verified=True,
            is_active=True,
        )
        one = Series.objects.create(ticker=f"{TICKER_PREFIX}{n:02d}", city=city, measure=Series.Measure.HIGH)
        event = Event.objects.create(series=one, event_ticker=f"{one.ticker}-26JAN15", target_date=NOW.date())
        centre = 30 + n
        rungs = ladder_rungs(centre, BRACKETS)
        markets = ladder_markets(event, rungs, open_time=NOW - timedelta(hours=20), close_time=CLOSE)
        # The market's view: a normal around the centre; the model's: shifted by 0 to 3 degrees (0 in a few cities).
        shift = 0.0 if n % 5 == 0 else rng.choice([-1, 1]) * rng.uniform(1.0, 3.0)
        market_p = normal_probabilities(rungs, centre + 0.5, 2.5)
        model_p = normal_probabilities(rungs, centre + 0.5 + shift, 2.0)
        prediction = Prediction.objects.create(model_version=model, event=event, as_of=NOW - timedelta(minutes=5))
        for market, q, p in zip(markets, market_p, model_p, strict=True):
            books.append(_book(market, q, rng))
            probabilities.append(BracketProbability(prediction=prediction, market=market, probability=p))
        cities.append(city)
        series.append(one)
    OrderBookSnapshot.objects.bulk_create(books)
    BracketProbability.objects.bulk_create(probabilities)
    return World(cities, series, model)


def _book(market: Market, p: Decimal, rng: random.Random) -> OrderBookSnapshot:
    """A book around the market's probability: YES bid a cent under it, ask a cent over, three levels a side."""
    mid = min(max(p.quantize(CENT), Decimal("0.03")), Decimal("0.96"))
    yes_bid, no_bid = mid - CENT, 1 - mid - CENT
    return OrderBookSnapshot(
        market=market,
        captured_at=NOW - timedelta(minutes=1),
        source=OrderBookSnapshot.Source.WEBSOCKET,
        yes_bids=[[f"{yes_bid - k * CENT:.2f}", str(rng.randint(20, 200))] for k in range(LEVELS)],
        no_bids=[[f"{no_bid - k * CENT:.2f}", str(rng.randint(20, 200))] for k in range(LEVELS)],
    )


def _clean_up(world: World, previous: TradingState) -> None:
    _reset_ledger()
    TradingCycle.objects.filter(mode=MODE, as_of__gte=NOW).delete()  # with their decision log
    Prediction.objects.filter(model_version=world.model).delete()
    Series.objects.filter(pk__in=[s.pk for s in world.series]).delete()  # events, markets, books, probabilities
    world.model.delete()
    City.objects.filter(pk__in=[c.pk for c in world.cities]).delete()
    TradingState.objects.filter(pk=previous.pk).update(
        state=previous.state, reason=previous.reason, changed_by=previous.changed_by, changed_at=previous.changed_at
    )
