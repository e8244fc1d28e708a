"""A mode's P&L history: realised P&L by UTC day, ISO week and month, by city and by strategy; the equity curve.

The one place P&L history is computed; the dashboard's P&L page and /api/pnl/
both read it. Realised P&L is what the ledger booked (trading.accounting):
each fill's ``realized_pnl`` (closed pairs, after its fee) at its execution
time, and each settlement's revenue - cost - fees at its settlement time.
Days are UTC days, as ``trading.accounting.realized_on`` and the daily loss
limit count them. Sums run in the database, so a year of fills is a few
queries whatever its size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate

from markets.fields import dollars_field
from trading.accounting import account_for, equity
from trading.models import Fill, Position, Settlement, TradingCycle

ZERO = Decimal(0)
MICRO = Decimal("0.000001")  # the ledger's precision
CITY = "market__event__series__city__name"
DAY_NAME = "UTC"  # the day the tables count in, named on the page and in the API


def _money() -> DecimalField[Any, Any]:
    return dollars_field()


class UtcDay(TruncDate):
    """A datetime column's UTC day, computed by the database.

    On SQLite Django computes TruncDate by calling a Python function on every
    row (about 10 µs each: a second over a year of cycles); SQLite keeps
    datetimes as UTC text, so its own date() gives the UTC day at once.
    """

    def __init__(self, expression: str) -> None:
        super().__init__(expression, tzinfo=UTC)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", tuple(params)


def _exact(value: Decimal | None) -> Decimal:
    """A database sum at the ledger's precision (SQLite sums decimals as floats: 0.30000000000000004)."""
    return ZERO if value is None else value.quantize(MICRO)


@dataclass(frozen=True)
class PeriodPnl:
    """Realised P&L of one UTC day, ISO week or month (``start`` is its first day)."""

    start: date
    label: str
    trading: Decimal = ZERO  # fills' realised P&L: closed pairs, after the fills' fees
    settled: Decimal = ZERO  # settlements' revenue - cost - fees
    fees: Decimal = ZERO  # fees paid on fills and settlements (already inside the two above)
    fills: int = 0
    settlements: int = 0

    @property
    def total(self) -> Decimal:
        total: Decimal = self.trading + self.settled
        return total

    def plus(self, other: PeriodPnl) -> PeriodPnl:
        return replace(
            self,
            trading=self.trading + other.trading,
            settled=self.settled + other.settled,
            fees=self.fees + other.fees,
            fills=self.fills + other.fills,
            settlements=self.settlements + other.settlements,
        )


@dataclass(frozen=True)
class GroupPnl:
    """Realised P&L of one city or strategy, with its closed markets won and lost."""

    name: str
    trading: Decimal = ZERO
    settled: Decimal = ZERO
    fees: Decimal = ZERO
    fills: int = 0
    settlements: int = 0
    wins: int = 0
    losses: int = 0

    @property
    def total(self) -> Decimal:
        total: Decimal = self.trading + self.settled
        return total


@dataclass(frozen=True)
class EquityPoint:
    day: date
    equity: Decimal


@dataclass(frozen=True)
class BalancePoint:
    """Cash and equity as the last trading cycle of a UTC day recorded them."""

    day: date
    cash: Decimal
    equity: Decimal


@dataclass(frozen=True)
class Drawdown:
    amount: Decimal  # the largest fall from a peak, dollars
    fraction: Decimal | None  # of that peak (None when the peak was not positive)
    peak: date | None
    trough: date | None


# --- realised P&L over time -------------------------------------------------------------------------


def daily(mode: str) -> list[PeriodPnl]:
    """Realised P&L per UTC day with any fill or settlement, oldest first (two queries)."""
    days: dict[date, PeriodPnl] = {}
    fills = (
        Fill.objects.filter(mode=mode)
        .annotate(day=UtcDay("created_time"))
        .values("day")
        .annotate(realised=Sum("realized_pnl"), fees=Sum("fee"), n=Count("id"))
    )
    for row in fills:
        day = row["day"]
        days[day] = PeriodPnl(day, day.isoformat(), _exact(row["realised"]), ZERO, _exact(row["fees"]), row["n"])
    settled = (
        Settlement.objects.filter(mode=mode)
        .annotate(day=UtcDay("settled_time"))
        .values("day")
        .annotate(
            booked=Sum(F("revenue") - F("cost") - F("fees"), output_field=_money()), fees=Sum("fees"), n=Count("id")
        )
    )
    for settled_row in settled:
        day = settled_row["day"]
        booked, fees = _exact(settled_row["booked"]), _exact(settled_row["fees"])
        extra = PeriodPnl(day, day.isoformat(), ZERO, booked, fees, 0, settled_row["n"])
        days[day] = days[day].plus(extra) if day in days else extra
    return [days[d] for d in sorted(days)]


def weekly(days: Iterable[PeriodPnl]) -> list[PeriodPnl]:
    """The days rolled up into ISO weeks (Monday to Sunday, UTC), labelled like 2025-W09."""
    return _roll_up(days, _iso_week)


def monthly(days: Iterable[PeriodPnl]) -> list[PeriodPnl]:
    """The days rolled up into calendar months (UTC), labelled like 2025-02."""
    return _roll_up(days, lambda d: (d.replace(day=1), f"{d:%Y-%m}"))


def _iso_week(day: date) -> tuple[date, str]:
    year, week, weekday = day.isocalendar()
    return day - timedelta(days=weekday - 1), f"{year}-W{week:02d}"


def _roll_up(days: Iterable[PeriodPnl], period: Any) -> list[PeriodPnl]:
    periods: dict[date, PeriodPnl] = {}
    for day in days:
        start, label = period(day.start)
        empty = PeriodPnl(start, label)
        periods[start] = periods.get(start, empty).plus(day)
    return [periods[p] for p in sorted(periods)]


def total(periods: Iterable[PeriodPnl]) -> PeriodPnl:
    """Everything in ``periods`` as one row (its start is the first period's)."""
    rows = list(periods)
    start = rows[0].start if rows else date.min
    summed = PeriodPnl(start, "total")
    for row in rows:
        summed = summed.plus(row)
    return summed


# --- by city and by strategy ------------------------------------------------------------------------


def by_city(mode: str) -> list[GroupPnl]:
    """Realised P&L per city (by the market's series; "" when the market is not in our tables), best first."""
    return _groups(
        _grouped(Fill.objects.filter(mode=mode), CITY, "realized_pnl", "fee"),
        _grouped(Settlement.objects.filter(mode=mode), CITY, F("revenue") - F("cost") - F("fees"), "fees"),
        _won_lost(Position.objects.filter(mode=mode), F(CITY)),
    )


def by_strategy(mode: str) -> list[GroupPnl]:
    """Realised P&L per strategy, best first.

    A fill counts for its order's strategy ("" for a fill of an order not
    ours). A settlement, and a market's win or loss, counts for the strategy
    whose order last filled in that market: Kalshi nets a market into one
    position, so that is the strategy that held it to the end.
    """
    last = _last_strategy()
    return _groups(
        _grouped(Fill.objects.filter(mode=mode), "order__strategy", "realized_pnl", "fee"),
        _grouped(
            Settlement.objects.filter(mode=mode).annotate(held_by=last),
            "held_by",
            F("revenue") - F("cost") - F("fees"),
            "fees",
        ),
        _won_lost(Position.objects.filter(mode=mode), last),
    )


def _last_strategy() -> Subquery:
    last = Fill.objects.filter(mode=OuterRef("mode"), ticker=OuterRef("ticker"), order__isnull=False)
    return Subquery(last.order_by("-created_time", "-id").values("order__strategy")[:1])


def _grouped(rows: QuerySet[Any], group: str, pnl: Any, fees: str) -> dict[str, tuple[Decimal, Decimal, int]]:
    """{group: (P&L, fees, rows)} summed in the database."""
    summed = rows.values(group).annotate(pnl=Sum(pnl, output_field=_money()), paid=Sum(fees), n=Count("id"))
    found: dict[str, tuple[Decimal, Decimal, int]] = {}
    for row in summed:  # None (no order, no market) and "" (an order without a strategy) are one group
        name = row[group] or ""
        before = found.get(name, (ZERO, ZERO, 0))
        found[name] = (before[0] + _exact(row["pnl"]), before[1] + _exact(row["paid"]), before[2] + row["n"])
    return found


def _won_lost(positions: QuerySet[Position], group: Any) -> dict[str, tuple[int, int]]:
    """{group: (markets won, markets lost)} over closed positions: nothing held, settled or sold out."""
    closed = positions.filter(yes_count=0, no_count=0).annotate(group=group).values("group")
    counted = closed.annotate(
        won=Count("id", filter=Q(realized_pnl__gt=0)), lost=Count("id", filter=Q(realized_pnl__lt=0))
    )
    found: dict[str, tuple[int, int]] = {}
    for row in counted:
        won, lost = found.get(row["group"] or "", (0, 0))
        found[row["group"] or ""] = (won + row["won"], lost + row["lost"])
    return found


def _groups(
    fills: dict[str, tuple[Decimal, Decimal, int]],
    settled: dict[str, tuple[Decimal, Decimal, int]],
    won_lost: dict[str, tuple[int, int]],
) -> list[GroupPnl]:
    rows = []
    for name in set(fills) | set(settled) | set(won_lost):
        traded, fill_fees, n_fills = fills.get(name, (ZERO, ZERO, 0))
        pnl, settle_fees, n_settled = settled.get(name, (ZERO, ZERO, 0))
        wins, losses = won_lost.get(name, (0, 0))
        rows.append(GroupPnl(name, traded, pnl, fill_fees + settle_fees, n_fills, n_settled, wins, losses))
    return sorted(rows, key=lambda g: (-g.total, g.name))


# --- equity ------------------------------------------------------------------------------------------


def equity_now(mode: str) -> tuple[Decimal, Decimal]:
    """(cash, equity) of the mode's account now: equity is cash plus open positions at cost."""
    account = account_for(mode)
    return account.cash, equity(account)


def equity_curve(days: Sequence[PeriodPnl], now_equity: Decimal) -> list[EquityPoint]:
    """Equity at the end of each UTC day with P&L, from the ledger alone (no cycle needs to have run).

    Equity at cost moves only by realised P&L (buying a contract turns cash
    into cost; its fee is realised), so the equity at the end of a day is
    today's minus what was realised after it. The first point is the day
    before the first P&L. Money paid in or out of the account, or a
    reconciliation's balance correction, shifts every earlier point by the
    same amount: the shape is right, the level is today's.
    """
    if not days:
        return []
    points = []
    level = now_equity
    for day in reversed(days):
        points.append(EquityPoint(day.start, level))
        level -= day.total
    points.append(EquityPoint(days[0].start - timedelta(days=1), level))
    return points[::-1]


def max_drawdown(points: Sequence[EquityPoint]) -> Drawdown:
    """The largest fall of equity from a running peak to a later point."""
    worst = Drawdown(ZERO, None, None, None)
    peak: EquityPoint | None = None
    for point in points:
        if peak is None or point.equity > peak.equity:
            peak = point
        fall = peak.equity - point.equity
        if fall > worst.amount:
            share = fall / peak.equity if peak.equity > 0 else None
            worst = Drawdown(fall, share, peak.day, point.day)
    return worst


def recorded_balances(mode: str) -> list[BalancePoint]:
    """Cash and equity recorded by the last trading cycle of each UTC day that recorded them (one query)."""
    recorded = TradingCycle.objects.filter(mode=mode, equity__isnull=False, cash__isnull=False)
    last_of_day = recorded.annotate(day=UtcDay("as_of")).values("day").annotate(last=Max("as_of")).values("last")
    points: dict[date, BalancePoint] = {}
    for at, cash, held in (
        recorded.filter(as_of__in=Subquery(last_of_day)).order_by("as_of").values_list("as_of", "cash", "equity")
    ):
        day = at.astimezone(UTC).date()
        points[day] = BalancePoint(day, cash, held)  # two strategies at the same instant: either is that moment's
    return list(points.values())


# --- everything a page or the API shows -------------------------------------------------------------


@dataclass(frozen=True)
class PnlReport:
    mode: str
    days: list[PeriodPnl]
    weeks: list[PeriodPnl]
    months: list[PeriodPnl]
    overall: PeriodPnl
    cities: list[GroupPnl]
    strategies: list[GroupPnl]
    cash: Decimal
    equity: Decimal
    curve: list[EquityPoint]
    drawdown: Drawdown
    balances: list[BalancePoint]

    @property
    def wins(self) -> int:
        return sum(c.wins for c in self.cities)

    @property
    def losses(self) -> int:
        return sum(c.losses for c in self.cities)


REPORT_TTL = 300  # seconds: what the ledger's version does not see (a city renamed) shows within five minutes


def report(mode: str) -> PnlReport:
    """The mode's whole P&L history, summed once per version of its ledger.

    Summing a year of fills and settlements takes the database a good part of
    a second, and the page re-renders on every fill while programs poll the
    API; so the report is cached under :func:`ledger_version` and summed
    again only when something it sums has changed.
    """
    key = "trading.pnl.report:" + hashlib.sha256(ledger_version(mode).encode()).hexdigest()  # a key any cache takes
    found = cache.get(key)
    if isinstance(found, PnlReport):
        return found
    fresh = compute_report(mode)
    cache.set(key, fresh, REPORT_TTL)
    return fresh


def ledger_version(mode: str) -> str:
    """A key that changes whenever the mode's P&L can have changed (four queries, each one row by an index).

    Every fill, fee correction and settlement is booked with the account row,
    moving its cash and ``updated_at``; each new fill, settlement or cycle that
    records a balance is a new newest row (a cycle run again keeps its id, so
    its equity is in the key too). The newest fill and settlement are of any
    mode: read off the primary key's end, where filtering by mode walked (and
    sorted) every row of the mode; another mode's only costs a recomputation.
    The newest cycle is by decision time, the (mode, as_of) index's order.
    """
    account = account_for(mode)
    fill = Fill.objects.order_by("-id").values_list("id", flat=True).first()
    settled = Settlement.objects.order_by("-id").values_list("id", flat=True).first()
    cycle = (
        TradingCycle.objects.filter(mode=mode, equity__isnull=False)
        .order_by("-as_of", "-id")
        .values_list("id", "equity")
        .first()
    )
    return ":".join(str(part) for part in (mode, account.pk, account.cash, account.updated_at, fill, settled, cycle))


def compute_report(mode: str) -> PnlReport:
    """The mode's whole P&L history from the database: a fixed number of queries however many fills."""
    days = daily(mode)
    cash, now_equity = equity_now(mode)
    curve = equity_curve(days, now_equity)
    return PnlReport(
        mode=mode,
        days=days,
        weeks=weekly(days),
        months=monthly(days),
        overall=total(days),
        cities=by_city(mode),
        strategies=by_strategy(mode),
        cash=cash,
        equity=now_equity,
        curve=curve,
        drawdown=max_drawdown(curve),
        balances=recorded_balances(mode),
    )
