"""The drill's loop: trading cycles, the feed and reconciliations against the local exchange, faults raining.

The clock is the wall's (UTC), read at this edge and passed to the product
as ``now``, made strictly increasing so every cycle has a time of its own:
the exchange stamps orders and fills with the same clock, so reconciliation's
windows mean what they mean in production.

Each turn of the loop: a new phase of fault rates when due, new predictions
when due (so the strategy changes its mind, buying both sides), the makers
requote every market (a stream of book frames for the faults to hit), one
trading cycle, and every few cycles a reconciliation. Every ``day_seconds``
the climate day ends: its events settle at the exchange, the next day's are
listed, and the feed restarts to watch them (so positions free up, and
settlements and restarts are drilled too). A halt by the kill switch is
counted and lifted, as an operator would after reading it. When the
time is up (and at least ``faults_min`` faults were injected) the faults stop,
what hung is let finish, reconciliation closes the books, and the audit runs.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test.utils import override_settings

from kalshiweb.modes import TradingMode
from localexchange.exchange import Exchange
from localexchange.ws import Faults
from markets.feed.service import FeedRecorder, run_feed
from markets.models import Market, OrderBookSnapshot
from markets.signing import RequestSigner
from trading.brokers import broker_for
from trading.cycle import run_cycle
from trading.drill.audit import audit, exchange_record
from trading.drill.checks import Findings
from trading.drill.schedule import CALM, HANG_SECONDS, RETRY, TIMEOUTS, Schedule
from trading.drill.venue import MEMBER, Background, Served, open_exchange, open_markets, quoting, serve
from trading.drill.world import World, city_worlds, predict, spread_out
from trading.models import Order, RiskLimits, TradingCycle, TradingState
from trading.reconcile import reconcile
from trading.services import resume_trading
from trading.strategies import Strategy, strategy_named
from weather.models import City

D = Decimal
MODE = TradingMode.DEMO
ACTOR = "faultdrill"
PHASE_SECONDS = 2.0  # a new draw of fault rates this often
PREDICT_SECONDS = 3.0  # new predictions this often
RECONCILE_EVERY = 5  # cycles
FEED_RECORD_SECONDS = 0.25
GRACE = timedelta(seconds=2)  # an order not at the exchange this long after sending never reached it
CLOSING_TRIES = 20
BOOKS_WITHIN = 3.0  # seconds
FEED_TOTALS = ("frames", "reconnects", "gaps", "divergences", "fills_stored", "book_snapshots_stored")
BANKROLL = D(1000)


@dataclass(frozen=True)
class DrillSpec:
    minutes: float
    seed: int
    faults_min: int = 0
    cities: tuple[str, ...] = ()  # names or daily-high series tickers; empty: ``city_count`` chosen by the seed
    city_count: int = 4
    brackets_between: int = 4  # two-degree brackets per event, between its two tails
    bankroll: Decimal = BANKROLL
    progress_seconds: float = 10.0
    day_seconds: float = 12.0  # wall seconds a climate day lasts: then its events settle and the next day's list

    @property
    def limit_seconds(self) -> float:
        """The longest the drill runs waiting for ``faults_min`` faults: five times its length, and a minute."""
        return self.minutes * 60 * 5 + 60


@dataclass
class DrillResult:
    spec: DrillSpec
    cities: list[str]
    markets: int
    elapsed: float = 0.0
    cycles: int = 0
    cycles_failed: int = 0
    orders: int = 0  # sent to the exchange (each client order id once)
    orders_at_exchange: int = 0
    fills: int = 0  # at the exchange
    faults: Counter[str] = field(default_factory=Counter)
    phases: int = 0
    days: int = 0  # days settled
    reconciliations: int = 0
    halts: Counter[str] = field(default_factory=Counter)  # kill switch trips by trigger
    feed: dict[str, int] = field(default_factory=dict)  # the feed's counts, over its restarts
    findings: Findings | None = None
    closing_complete: bool = False

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    @property
    def passed(self) -> bool:
        return (
            self.findings is not None
            and self.findings.clean
            and self.closing_complete
            and self.faults_injected >= self.spec.faults_min
        )


class Clock:
    """The wall clock in UTC, strictly increasing."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        self._last = now if now > self._last else self._last + timedelta(microseconds=1)
        return self._last


def run_drill(spec: DrillSpec, *, say: Callable[[str], None] = print) -> DrillResult:
    """Run the drill in the current database (a throwaway one: see trading.drill.database)."""
    rng = random.Random(spec.seed)  # noqa: S311 - a replayable drill, not a secret
    clock = Clock()
    started = clock()
    cities = choose_cities(spec, rng)
    worlds = city_worlds(cities, started.date(), now=started, between=spec.brackets_between, rng=rng)
    limits = drill_limits()
    resume_trading(reason="the fault drill starts", actor=ACTOR, now=started)
    exchange = open_exchange(worlds, bankroll=spec.bankroll, maker_balance=D(10_000_000))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # in memory only, for this exchange
    faults = Faults(seed=spec.seed)
    result = DrillResult(spec, [c.name for c in cities], 0)
    strategy = strategy_named("model-taker", sizing=limits.sizing())
    with (
        override_settings(TRADING_MODE=MODE.value),  # the feed books our fills into the drill's ledger
        serve(exchange, key, faults=faults, timeouts=TIMEOUTS, retry=RETRY) as served,
    ):
        drill = _Drill(spec, served, key, cities, rng, clock, result, strategy)
        try:
            drill.begin(worlds, started.date())
            reconcile(served.client, mode=MODE.value, now=clock(), grace=GRACE)  # start-up: the first balance
            drill.trade(say)
            CALM.apply(faults)
            time.sleep(HANG_SECONDS + 0.2)  # what hung before the calm answers now
            _close(served, clock, result)
        finally:
            drill.stop_feed()
        _close(served, clock, result)  # what the feed booked as it stopped, checked once more
        result.faults = served.call(lambda: Counter(faults.injected))
        result.findings = audit(served, mode=MODE.value)
        mine = served.call(lambda: exchange_record(exchange))
        result.orders_at_exchange, result.fills = len(mine.orders), len(mine.fills)
    result.orders = _orders_sent()
    result.elapsed = (clock() - started).total_seconds()
    return result


class _Drill:
    """The trading part of a drill: the loop, and what changes as it goes (faults, predictions, quotes, days)."""

    def __init__(
        self,
        spec: DrillSpec,
        served: Served,
        key: Any,
        cities: list[City],
        rng: random.Random,
        clock: Clock,
        result: DrillResult,
        strategy: Strategy,
    ) -> None:
        self.spec, self.served, self.key, self.cities, self.rng, self.clock = spec, served, key, cities, rng, clock
        self.result, self.strategy = result, strategy
        self.faults = served.feed.faults
        self.broker = broker_for(MODE, client=served.client)
        self.worlds: list[World] = []
        self.weights: dict[str, list[float]] = {}  # per event: the makers quote around them, we predict around them
        self.maker = quoting({}, rng=rng)
        self.feed: Background[FeedRecorder] | None = None
        self.day = date.min

    def begin(self, worlds: list[World], day: date) -> None:
        """Quote the worlds' markets, predict them, and start the feed for their day."""
        self.worlds = worlds
        self.weights = {w.event.event_ticker: [self.rng.uniform(0.5, 1.5) for _ in w.markets] for w in worlds}
        for world in worlds:
            fair = spread_out(self.weights[world.event.event_ticker])
            self.maker.paths.update(quoting(dict(zip(world.tickers, fair, strict=True)), rng=self.rng).paths)
        self.result.markets += sum(len(w.markets) for w in worlds)
        self.served.run(self.maker.requote(self.served.feed, self.clock()))
        self.predict()
        self.day = day
        self.start_feed(day)
        self.await_books(worlds)

    def await_books(self, worlds: list[World]) -> None:
        """Give the feed a moment to store the new day's books, so the first cycles do not trip on none."""
        markets = [m.pk for w in worlds for m in w.markets]
        deadline = time.monotonic() + BOOKS_WITHIN
        while time.monotonic() < deadline:
            if OrderBookSnapshot.objects.filter(market__in=markets).values("market").distinct().count() == len(markets):
                return
            time.sleep(FEED_RECORD_SECONDS)

    def trade(self, say: Callable[[str], None]) -> None:
        spec, schedule = self.spec, Schedule(self.spec.seed)
        began = time.monotonic()
        phase_at = predicted_at = told_at = float("-inf")
        day_at = began
        while True:
            elapsed = time.monotonic() - began
            if (elapsed >= spec.minutes * 60 and self.injected() >= spec.faults_min) or elapsed >= spec.limit_seconds:
                break
            if time.monotonic() - phase_at >= PHASE_SECONDS:
                schedule.next().apply(self.faults)
                phase_at = time.monotonic()
            if time.monotonic() - day_at >= spec.day_seconds:
                self.next_day()
                day_at = predicted_at = time.monotonic()
            if time.monotonic() - predicted_at >= PREDICT_SECONDS:
                self.predict()
                predicted_at = time.monotonic()
            self.served.run(self.maker.requote(self.served.feed, self.clock()))
            self.cycle()
            if time.monotonic() - told_at >= spec.progress_seconds:
                told_at = time.monotonic()
                say(self.progress(time.monotonic() - began))
        self.result.phases = schedule.phases

    def cycle(self) -> None:
        result = self.result
        cycle = run_cycle(self.broker, now=self.clock(), strategy=self.strategy)
        result.cycles += 1
        result.cycles_failed += cycle.outcome == TradingCycle.Outcome.FAILED
        if result.cycles % RECONCILE_EVERY == 0:
            reconcile(self.served.client, mode=MODE.value, now=self.clock(), grace=GRACE)
            result.reconciliations += 1
        state = TradingState.load()
        if state.state != TradingState.State.ACTIVE:  # lifted, as an operator would once they had read why
            result.halts[state.changed_by.removeprefix("system:") or "operator"] += 1
            resume_trading(reason=f"the fault drill lifts the halt ({state.reason})", actor=ACTOR, now=self.clock())

    def next_day(self) -> None:
        """The day's events settle at the exchange (a bracket drawn by weight wins); the next day's are listed.

        Our ledger hears of the settlements from reconciliation, as in production; the market rows are
        marked finalized as the market sync would. The feed restarts to watch the new day.
        """
        at = self.clock()
        exchange = self.served.feed.exchange
        for world in self.worlds:
            winner = self.rng.choices(world.markets, weights=self.weights[world.event.event_ticker])[0]
            results = {m.ticker: "yes" if m == winner else "no" for m in world.markets}
            self.served.call(functools.partial(settle, exchange, results, at=at))
            for ticker in world.tickers:
                self.maker.paths.pop(ticker)
                self.maker.quotes.pop(ticker, None)
            for market in world.markets:
                Market.objects.filter(pk=market.pk).update(
                    status=Market.Status.FINALIZED, result=results[market.ticker], close_time=at
                )
        self.result.days += 1
        self.day += timedelta(days=1)
        worlds = city_worlds(self.cities, self.day, now=at, between=self.spec.brackets_between, rng=self.rng)
        self.served.call(lambda: open_markets(exchange, worlds))
        self.stop_feed()
        self.begin(worlds, self.day)

    def start_feed(self, day: date) -> None:
        signer, url = RequestSigner(MEMBER, self.key), self.served.urls.ws_url

        async def feed(stop: asyncio.Event) -> FeedRecorder:
            # Its database work in a thread of its own: a new connection, to the drill's database (asgiref's
            # shared thread may hold one opened before the drill, to another).
            async with ThreadSensitiveContext():
                return await run_feed(signer, stop, url=url, record_every=FEED_RECORD_SECONDS, day=day)

        self.feed = Background(feed)
        self.feed.start()

    def stop_feed(self) -> None:
        if self.feed is not None:
            detail = self.feed.stop().detail()
            self.feed = None
            for name in FEED_TOTALS:
                self.result.feed[name] = self.result.feed.get(name, 0) + int(str(detail.get(name) or 0))

    def predict(self) -> None:
        """Our model's new view: the makers' starting weights, each bracket's moved by up to half either way."""
        at = self.clock()
        for world in self.worlds:
            moved = [w * self.rng.uniform(0.5, 1.5) for w in self.weights[world.event.event_ticker]]
            predict(world, spread_out(moved), at=at)

    def injected(self) -> int:
        return self.served.call(lambda: sum(self.faults.injected.values()))

    def progress(self, elapsed: float) -> str:
        result = self.result
        return (
            f"  {elapsed:6.1f} s  cycles {result.cycles:,}  orders {_orders_sent():,}  faults {self.injected():,}"
            f"  reconciliations {result.reconciliations:,}  days {result.days + 1:,}"
            f"  halts lifted {sum(result.halts.values()):,}"
        )


def settle(exchange: Exchange, results: dict[str, str], *, at: datetime) -> None:
    for ticker, result in results.items():
        exchange.settle(ticker, result, at=at)


def _orders_sent() -> int:
    return Order.objects.filter(mode=MODE.value, submitted_at__isnull=False).count()


def _close(served: Served, clock: Clock, result: DrillResult) -> None:
    """Reconcile until a run is complete (nothing left unknown), as the scheduled reconciliation would."""
    for _ in range(CLOSING_TRIES):
        closing = reconcile(served.client, mode=MODE.value, now=clock() + GRACE, grace=GRACE)
        result.reconciliations += 1
        if closing.complete:
            result.closing_complete = True
            return
        time.sleep(0.1)
    result.closing_complete = False


def drill_limits() -> RiskLimits:
    """Limits that bind often (small positions and orders) but never stop the drill by themselves.

    Exchange errors are the drill's weather, so they never trip the kill switch; losses are the makers'
    spread, paid on purpose, so their limits are far away. Resting orders go stale in a minute.
    """
    limits = RiskLimits.load()
    limits.max_order_contracts, limits.max_order_cost, limits.max_position_contracts = D(10), D(5), D(20)
    limits.max_event_exposure, limits.max_city_day_exposure, limits.max_total_exposure = D(25), D(25), D(80)
    limits.max_daily_loss = limits.max_drawdown = D(1_000_000)
    limits.max_consecutive_exchange_errors = 1_000_000
    limits.max_order_age_minutes = 1
    limits.max_depth_fraction = D(1)
    limits.updated_by = ACTOR
    limits.save()
    return limits


def choose_cities(spec: DrillSpec, rng: random.Random) -> list[City]:
    """The cities asked for (by name or daily-high series ticker), else ``city_count`` of them chosen by the seed."""
    every = list(City.objects.filter(is_active=True).exclude(high_series_ticker=None).order_by("name"))
    if not spec.cities:
        return rng.sample(every, min(spec.city_count, len(every)))
    wanted = {c.lower() for c in spec.cities}
    chosen = [c for c in every if c.name.lower() in wanted or (c.high_series_ticker or "").lower() in wanted]
    missing = wanted - {c.name.lower() for c in chosen} - {(c.high_series_ticker or "").lower() for c in chosen}
    if missing:
        raise ValueError(f"no such city: {', '.join(sorted(missing))} (names or daily-high series tickers)")
    return chosen
