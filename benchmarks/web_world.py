"""A generated year of trading, for the web benchmark: what the dashboard and the API read after a year live.

Per city and climate day: an event of six brackets open from 15:00 UTC the
day before to 05:00 UTC the day after (as Kalshi lists them), four stored
books a market, hourly predictions of a weekly-retrained model, forecasts of
four sources issued over three days, observations and hourly running maxima,
and in the DRY ledger an order, a fill, a position and a settlement in two
brackets. The trading cycle runs every 20 minutes (3 an hour; the live default
is 12) and logs a decision on every open market, which makes the decision log
the biggest table by far, as in production. Predictions are hourly (the live
schedule predicts every 10 minutes).

Rows are written with :func:`kalshiweb.bulk.insert_rows` under ids the
generator assigns (counted up from the table's largest), so foreign keys are
known without reading anything back; PostgreSQL's sequences are moved past
them at the end. Times are relative to ``now``: today's and tomorrow's events
are open, every earlier one is settled.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction

from benchmarks.ladders import Rung, market_ticker, normal_probabilities, rungs
from kalshiweb.bulk import insert_rows
from kalshiweb.progress import Progress
from markets.models import Event, Market, OrderBookSnapshot, Series
from prediction.models import BracketProbability, ModelVersion, Prediction
from trading.fees import FeeSchedule
from trading.models import Account, DecisionLogEntry, Fill, Order, Position, Settlement, TradingCycle
from weather.models import City, ForecastSnapshot, Observation, RunningExtreme

MODE = "DRY"
STRATEGY = "model-taker"
TICKER_PREFIX = "KXBENCHWEB"
BRACKETS = 6
TRADED = (2, 3)  # the two middle brackets of each ladder get an order
CYCLE = timedelta(minutes=20)
OPENS = timedelta(hours=-9)  # 15:00 UTC the day before the climate day
CLOSES = timedelta(days=1, hours=5)  # 05:00 UTC the day after
CENT = Decimal("0.01")
CONTRACTS = Decimal(10)
FEES = FeeSchedule("quadratic", Decimal(1))
SOURCES = (("nws", ""), ("open-meteo", "gfs_seamless"), ("open-meteo-ensemble", "gfs025"), ("visual-crossing", ""))
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
# The tables written with generated ids, parents before children (clean-up deletes in reverse).
WRITTEN: tuple[type[models.Model], ...] = (
    Event,
    Market,
    OrderBookSnapshot,
    ForecastSnapshot,
    Observation,
    RunningExtreme,
    Prediction,
    BracketProbability,
    Order,
    Fill,
    Position,
    Settlement,
    TradingCycle,
    DecisionLogEntry,
)


@dataclass(frozen=True)
class Size:
    cities: int
    days: int  # climate days up to today, plus tomorrow's open event


FULL = Size(cities=20, days=365)
QUICK = Size(cities=2, days=7)


@dataclass
class Ids:
    """The next free primary key of each table the generator writes."""

    next: dict[type[models.Model], int] = field(default_factory=dict)

    def take(self, model: type[models.Model], n: int = 1) -> int:
        if model not in self.next:
            largest = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
            self.next[model] = (largest or 0) + 1
        first = self.next[model]
        self.next[model] += n
        return first


@dataclass(frozen=True)
class Bracket:
    id: int
    ticker: str
    rung: Rung
    market_p: Decimal  # what the book says
    model_p: Decimal  # what our model says
    yes_bid: Decimal
    yes_ask: Decimal


@dataclass(frozen=True)
class Day:
    """One city's event of one climate day, with its brackets."""

    city: City
    series_id: int
    event_id: int
    event_ticker: str
    target: date
    opens: datetime
    closes: datetime
    high: int  # what the day's high turns out to be
    brackets: tuple[Bracket, ...]


@dataclass
class World:
    now: datetime
    first: date  # the first climate day
    cities: list[City]
    first_ids: dict[type[models.Model], int]
    rows: dict[str, int] = field(default_factory=dict)

    def count(self, model: type[models.Model], n: int) -> None:
        self.rows[model.__name__] = self.rows.get(model.__name__, 0) + n


def build(size: Size, *, now: datetime, progress: Progress, seed: int = 13) -> World:
    """Write ``size`` worth of history ending at ``now``; returns what was written, for clean-up and figures."""
    rng = random.Random(seed)
    ids = Ids()
    cities = _cities(size)
    series = [
        Series.objects.create(ticker=f"{TICKER_PREFIX}{n:02d}", city=city, measure=Series.Measure.HIGH)
        for n, city in enumerate(cities)
    ]
    targets = [now.date() + timedelta(days=d) for d in range(1 - size.days, 2)]
    models_by_week = _models(targets[0], now, ids)
    world = World(now, targets[0], cities, {})
    for model in WRITTEN:
        world.first_ids[model] = ids.take(model, 0)
    progress.stage(f"markets, books, predictions, weather, ledger ({len(cities)} cities)", total=len(targets))
    days: dict[date, list[Day]] = {}
    for target in targets:
        days[target] = [_day(city, one, target, rng, ids) for city, one in zip(cities, series, strict=True)]
        with transaction.atomic():
            _write_day(world, days[target], models_by_week, rng, ids)
        progress.advance()
    start = datetime.combine(targets[0], time(), UTC) + OPENS
    moments = list(_every(start, now, CYCLE))
    progress.stage("trading cycles and their decision log", total=len(moments))
    cash = Decimal(1000)
    for chunk in _chunks(moments, 72):  # a day of cycles a transaction
        with transaction.atomic():
            cash = _write_cycles(world, chunk, days, cash, rng, ids)
        progress.advance(len(chunk))
    Account.objects.update_or_create(mode=MODE, defaults={"cash": cash, "peak_equity": cash, "updated_at": now})
    _reset_sequences()
    if connection.vendor == "postgresql":
        # Autovacuum would vacuum and analyze the new rows within minutes in production. Without statistics the
        # planner guesses row counts, and the figures would be of plans production never runs; without the
        # vacuum, autovacuum does it while the load runs, on the same CPUs (PostgreSQL vacuums tables after
        # inserts too), and index-only scans find no page marked all-visible.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return world


def clean_up(world: World) -> None:
    """Delete what :func:`build` wrote, children first, so no cascade has to look for them."""
    for model in reversed(WRITTEN):
        model._default_manager.filter(pk__gte=world.first_ids[model]).delete()
    ModelVersion.objects.filter(name="bench-web").delete()
    Series.objects.filter(ticker__startswith=TICKER_PREFIX).delete()
    City.objects.filter(pk__in=[c.pk for c in world.cities]).delete()
    Account.objects.filter(mode=MODE).delete()


def _cities(size: Size) -> list[City]:
    return [
        City.objects.create(
            name=f"Bench Web City {n:02d}",
            high_series_ticker=f"{TICKER_PREFIX}{n:02d}",
            station_icao="KTST",
            station_name="Bench Airport",
            nws_cli_code="TST",
            nws_cli_office="OKX",
            ghcn_id=f"USW009{n:05d}",
            latitude=Decimal("40.0000"),
            longitude=Decimal("-74.0000"),
            elevation_m=Decimal("10.0"),
            timezone=ZONES[n % len(ZONES)],
            standard_utc_offset_minutes=-300 - 60 * (n % len(ZONES)),
            station_verified=True,
            is_active=True,
        )
        for n in range(size.cities)
    ]


def _models(first: date, now: datetime, ids: Ids) -> list[ModelVersion]:
    """One version a week, each trained on the Monday it took over; the latest is promoted, the rest retired."""
    weeks = max((now.date() - first).days // 7 + 1, 1)
    versions = []
    for week in range(weeks):
        trained = min(datetime.combine(first + timedelta(weeks=week), time(6), UTC), now - timedelta(hours=1))
        latest = week == weeks - 1
        versions.append(
            ModelVersion.objects.create(
                name="bench-web",
                version=week + 1,
                kind=ModelVersion.Kind.STATISTICAL,
                status=ModelVersion.Status.PROMOTED if latest else ModelVersion.Status.RETIRED,
                trained_at=trained,
                promoted_at=trained,
                validation_scores={"brier": 0.18 - week * 0.0005, "log_loss": 0.52, "crps": 1.9, "market_brier": 0.18},
            )
        )
    return versions


def _day(city: City, series: Series, target: date, rng: random.Random, ids: Ids) -> Day:
    season = math.cos(2 * math.pi * (target.timetuple().tm_yday - 200) / 365)
    centre = round(55 + 25 * season + (city.pk % 7))
    high = round(rng.gauss(centre + 0.5, 3.0))
    ladder = rungs(centre, BRACKETS)
    market_ps = normal_probabilities(ladder, centre + 0.5, 3.0)
    model_ps = normal_probabilities(ladder, centre + 0.5 + rng.uniform(-2, 2), 2.5)
    event_ticker = f"{series.ticker}-{target:%y%b%d}".upper()
    first_market = ids.take(Market, BRACKETS)
    brackets = []
    for k, (rung, q, p) in enumerate(zip(ladder, market_ps, model_ps, strict=True)):
        mid = min(max(q.quantize(CENT), Decimal("0.03")), Decimal("0.96"))
        ticker = market_ticker(event_ticker, rung)
        brackets.append(Bracket(first_market + k, ticker, rung, q, p, mid - CENT, mid + CENT))
    midnight = datetime.combine(target, time(), UTC)
    return Day(
        city,
        series.pk,
        ids.take(Event),
        event_ticker,
        target,
        midnight + OPENS,
        midnight + CLOSES,
        high,
        tuple(brackets),
    )


def _wins(rung: Rung, high: int) -> bool:
    kind, floor, cap = rung
    if kind == "less":
        return cap is not None and high < cap
    if kind == "greater":
        return floor is not None and high > floor
    return floor is not None and cap is not None and floor <= high <= cap


def _write_day(world: World, days: list[Day], versions: list[ModelVersion], rng: random.Random, ids: Ids) -> None:
    now = world.now
    events: list[tuple[Any, ...]] = []
    markets: list[tuple[Any, ...]] = []
    books: list[tuple[Any, ...]] = []
    predictions: list[tuple[Any, ...]] = []
    probabilities: list[tuple[Any, ...]] = []
    for day in days:
        settled = day.closes <= now
        events.append((day.event_id, day.series_id, day.event_ticker, day.target))
        for b in day.brackets:
            kind, floor, cap = b.rung
            result = ("yes" if _wins(b.rung, day.high) else "no") if settled else ""
            markets.append(
                (
                    b.id,
                    day.event_id,
                    b.ticker,
                    kind,
                    _strike(floor),
                    _strike(cap),
                    "finalized" if settled else "active",
                    day.opens,
                    day.closes,
                    result,
                    day.closes + timedelta(hours=2) if settled else None,
                    b.yes_bid,
                    b.yes_ask,
                )
            )
            bids = json.dumps([[f"{b.yes_bid - n * CENT:.2f}", str(20 + 10 * n)] for n in range(3)])
            asks = json.dumps([[f"{1 - b.yes_ask - n * CENT:.2f}", str(25 + 10 * n)] for n in range(3)])
            for hours in (1, 10, 20, 37):
                if (at := day.opens + timedelta(hours=hours)) <= now:
                    books.append((b.id, at, "ws", bids, asks))
        for at in _every(day.opens + timedelta(hours=1), min(day.closes, now), timedelta(hours=1)):
            prediction_id = ids.take(Prediction)
            version = versions[min(max((at.date() - world.first).days // 7, 0), len(versions) - 1)]
            running = float(day.high - 3) if at >= day.opens - OPENS else None
            inputs = '{"nws": 1, "open-meteo": 1, "open-meteo-ensemble": 31}'
            predictions.append((prediction_id, version.pk, day.event_id, at, day.high + 0.4, 2.5, running, inputs, at))
            probabilities.extend((prediction_id, b.id, b.model_p) for b in day.brackets)
    _insert(world, Event, ["id", "series", "event_ticker", "target_date"], events)
    market_fields = ["id", "event", "ticker", "strike_type", "floor_strike", "cap_strike", "status", "open_time"]
    market_fields += ["close_time", "result", "settled_at", "yes_bid", "yes_ask"]
    _insert(world, Market, market_fields, markets)
    _insert(world, OrderBookSnapshot, ["market", "captured_at", "source", "yes_bids", "no_bids"], books)
    prediction_fields = ["id", "model_version", "event", "as_of", "mean_f", "std_f", "running_max_f"]
    _insert(world, Prediction, [*prediction_fields, "inputs", "created_at"], predictions)
    _insert(world, BracketProbability, ["prediction", "market", "probability"], probabilities)
    _write_weather(world, days, rng)
    _write_ledger(world, days, ids)


def _write_weather(world: World, days: list[Day], rng: random.Random) -> None:
    now = world.now
    forecasts, observations, extremes = [], [], []
    for day in days:
        midnight = datetime.combine(day.target, time(), UTC)
        for lead in (timedelta(days=-3, hours=12), timedelta(days=-2, hours=12), timedelta(days=-1, hours=12)):
            if (available := midnight + lead) > now:
                continue
            for source, model in SOURCES:
                value = day.high + rng.gauss(0, 2.5)
                members = (
                    json.dumps([round(value + rng.gauss(0, 2), 1) for _ in range(31)]) if "ensemble" in source else "[]"
                )
                row = (source, model, day.city.pk, day.target, available - timedelta(hours=1), available, available)
                forecasts.append((*row, round(value, 1), round(value - 15, 1), members))
        if day.closes <= now:
            reported = day.closes + timedelta(hours=2)
            observations.append((day.city.pk, day.target, "cli", day.high, day.high - 15, True, reported, reported))
        for at in _every(midnight + timedelta(hours=5, minutes=51), min(day.closes, now), timedelta(hours=1)):
            hours = (at - midnight).total_seconds() / 3600
            so_far = day.high - max(0.0, 14 - hours) / 2
            extremes.append((day.city.pk, day.target, at, at + timedelta(minutes=5), so_far, day.high - 15, 1))
    forecast_fields = ["source", "model", "city", "target_date", "issued_at", "available_at", "fetched_at"]
    _insert(world, ForecastSnapshot, [*forecast_fields, "high_f", "low_f", "members_high_f"], forecasts)
    observation_fields = ["city", "date", "source", "high_f", "low_f", "is_final", "reported_at", "received_at"]
    _insert(world, Observation, observation_fields, observations)
    extreme_fields = ["city", "date", "observed_at", "recorded_at", "max_f", "min_f", "n_observations"]
    _insert(world, RunningExtreme, extreme_fields, extremes)


def _order_time(day: Day) -> datetime:
    """The cycle that buys: the first at 16:00 UTC the day before (an hour after the markets open)."""
    return day.opens + timedelta(hours=1)


def _client_order_id(day: Day, bracket: Bracket) -> str:
    return f"bench-{day.event_id}-{bracket.id}"


def _write_ledger(world: World, days: list[Day], ids: Ids) -> None:
    """Buy YES at the ask in the traded brackets; it fills at once, and settles when the event does."""
    now = world.now
    orders, fills, positions, settlements = [], [], [], []
    for day in days:
        placed = _order_time(day)
        if placed > now:
            continue
        settled = day.closes <= now
        for k in TRADED:
            b = day.brackets[k]
            order_id, cost = ids.take(Order), b.yes_ask * CONTRACTS
            fee = FEES.fee(CONTRACTS, b.yes_ask, taker=True, at=placed)
            resting = not settled and k == TRADED[-1]  # today's second order still rests
            filled = Decimal(0) if resting else CONTRACTS
            decision = json.dumps({"probability": str(b.model_p), "edge": str(b.model_p - b.yes_ask)})
            orders.append(
                (
                    order_id,
                    _client_order_id(day, b),
                    MODE,
                    b.id,
                    b.ticker,
                    day.event_ticker,
                    "bid",
                    b.yes_ask,
                    CONTRACTS,
                    "good_till_canceled",
                    "resting" if resting else "executed",
                    f"ex-{order_id}",
                    filled,
                    CONTRACTS - filled,
                    Decimal(0) if resting else fee,
                    STRATEGY,
                    "edge after fees",
                    decision,
                    placed,
                    placed,
                    placed,
                )
            )
            if resting:
                continue
            fills.append(
                (
                    f"bench-trade-{order_id}",
                    MODE,
                    order_id,
                    f"ex-{order_id}",
                    b.id,
                    b.ticker,
                    "bid",
                    b.yes_ask,
                    CONTRACTS,
                    fee,
                    Decimal(0),
                    True,
                    placed + timedelta(seconds=1),
                    placed + timedelta(seconds=2),
                )
            )
            won = _wins(b.rung, day.high)
            pnl = (CONTRACTS if won else Decimal(0)) - cost - fee
            positions.append(
                (
                    MODE,
                    b.id,
                    b.ticker,
                    CONTRACTS,
                    Decimal(0),
                    cost,
                    pnl if settled else Decimal(0),
                    fee,
                    settled,
                    day.closes + timedelta(hours=2) if settled else placed,
                )
            )
            if settled:
                at = day.closes + timedelta(hours=2)
                revenue = CONTRACTS if won else Decimal(0)
                settlements.append(
                    (MODE, b.id, b.ticker, "yes" if won else "no", CONTRACTS, Decimal(0), cost, revenue, fee, at, at)
                )
    order_fields = ["id", "client_order_id", "mode", "market", "ticker", "event_ticker", "book_side", "price"]
    order_fields += ["count", "time_in_force", "status", "exchange_order_id", "filled_count", "remaining_count"]
    order_fields += ["fees", "strategy", "reason", "decision", "created_at"]
    _insert(world, Order, [*order_fields, "submitted_at", "updated_at"], orders)
    fill_fields = ["trade_id", "mode", "order", "exchange_order_id", "market", "ticker", "book_side", "price"]
    fill_fields += ["count", "fee", "realized_pnl", "is_taker", "created_time", "recorded_at"]
    _insert(world, Fill, fill_fields, fills)
    position_fields = ["mode", "market", "ticker", "yes_count", "no_count", "total_cost", "realized_pnl"]
    _insert(world, Position, [*position_fields, "fees_paid", "settled", "updated_at"], positions)
    settlement_fields = ["mode", "market", "ticker", "result", "yes_count", "no_count", "cost", "revenue", "fees"]
    _insert(world, Settlement, [*settlement_fields, "settled_time", "recorded_at"], settlements)


def _write_cycles(
    world: World, moments: Sequence[datetime], days: dict[date, list[Day]], cash: Decimal, rng: random.Random, ids: Ids
) -> Decimal:
    """Each cycle, and its decision on every market open at its time; returns the cash it leaves."""
    cycles, decisions = [], []
    for at in moments:
        cycle_id = ids.take(TradingCycle)
        open_days = [
            day
            for target in (at.date(), at.date() + timedelta(days=1), at.date() - timedelta(days=1))
            for day in days.get(target, ())
            if day.opens <= at < day.closes
        ]
        placed = 0
        for day in open_days:
            buying = _order_time(day) == at
            for k, b in enumerate(day.brackets):
                ordered = buying and k in TRADED
                placed += ordered
                edge = (b.model_p - b.yes_ask).quantize(Decimal("0.0001"))
                decisions.append(
                    (
                        cycle_id,
                        MODE,
                        at,
                        STRATEGY,
                        day.event_ticker,
                        b.ticker,
                        float(b.model_p),
                        float(b.market_p),
                        b.yes_bid,
                        b.yes_ask,
                        "yes",
                        b.yes_ask,
                        edge,
                        CONTRACTS if ordered else None,
                        "ordered" if ordered else "passed",
                        "edge after fees" if ordered else "edge below the minimum",
                        _client_order_id(day, b) if ordered else "",
                    )
                )
        cash += Decimal(rng.randint(-300, 320)) / 100
        markets = len(open_days) * BRACKETS
        cycles.append(
            (
                cycle_id,
                MODE,
                STRATEGY,
                at,
                at + timedelta(seconds=2),
                "done",
                len(open_days),
                markets,
                placed,
                placed,
                cash,
                cash + Decimal(placed) * 4,
            )
        )
    cycle_fields = ["id", "mode", "strategy", "as_of", "finished_at", "outcome", "events", "markets", "intents"]
    _insert(world, TradingCycle, [*cycle_fields, "placed", "cash", "equity"], cycles)
    decision_fields = ["cycle", "mode", "at", "strategy", "event_ticker", "ticker", "probability"]
    decision_fields += ["market_probability", "yes_bid", "yes_ask", "side", "price", "edge", "size", "verdict"]
    _insert(world, DecisionLogEntry, [*decision_fields, "reason", "client_order_id"], decisions)
    return cash


def _insert(world: World, model: type[models.Model], fields: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """insert_rows, with the columns left out (no default: blank text, or null) filled as the ORM would."""
    missing = [f for f in model._meta.concrete_fields if not (f.primary_key or f.has_default() or f.name in fields)]
    if missing:
        extra = tuple(f.get_default() for f in missing)
        fields, rows = [*fields, *(f.name for f in missing)], [(*row, *extra) for row in rows]
    insert_rows(model, fields, rows)
    world.count(model, len(rows))


def _strike(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    at = start
    while at <= end:
        yield at
        at += step


def _chunks(items: Sequence[datetime], size: int) -> Iterator[Sequence[datetime]]:
    for n in range(0, len(items), size):
        yield items[n : n + size]


def _reset_sequences() -> None:
    """PostgreSQL: move each table's id sequence past the ids written here (SQLite needs nothing)."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(WRITTEN)):
            cursor.execute(statement)
