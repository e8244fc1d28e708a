"""Walk-forward choice of a strategy's parameters: each month traded with what did best before it.

A parameter chosen on the whole period has seen the period. Here the days are
split into calendar-month folds; every point of a small grid (edge threshold,
Kelly fraction, maker margin, which decision times to trade) is replayed over
the whole range, and each fold is then traded with the point that earned the
most on the folds before it. The first fold has nothing before it and uses
the parameters asked for. The final run replays the range once with that
schedule, so its P&L is out of sample, and the choice per fold is reported.

Replaying every point over the whole range and scoring it on earlier folds
only is the same as replaying it up to each fold: the engine never looks
ahead (the look-ahead test holds it to that).

Pure: no Django.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from backtesting.engine import BacktestSpec, History, label, run_backtest
from backtesting.metrics import settle_fills
from kalshiweb.progress import SILENT, Progress
from prediction.cases import DecisionTime
from trading.limits import Sizing
from trading.strategies import Strategy, strategy_named
from trading.strategies.fixed import BracketArb
from trading.strategies.model import ModelMaker, ModelTaker

EDGES = (Decimal("0.02"), Decimal("0.04"), Decimal("0.06"))
KELLY_FRACTIONS = (Decimal("0.1"), Decimal("0.25"), Decimal("0.5"))
MARGINS = (Decimal("0.01"), Decimal("0.02"), Decimal("0.04"))


@dataclass(frozen=True)
class Choice:
    """One point of the grid: a strategy's parameters and the decision times it trades at."""

    strategy: str
    sizing: Sizing
    params: Mapping[str, Decimal]
    times: tuple[str, ...]  # decision labels, e.g. ("10:00", "18:00-1")

    def build(self) -> Strategy:
        return strategy_named(self.strategy, sizing=self.sizing, **self.params)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"decision_times": list(self.times)}
        if self.strategy in (ModelTaker.name, ModelMaker.name):
            described["kelly_fraction"] = str(self.sizing.kelly_fraction)
        if self.strategy == ModelTaker.name:
            described["min_edge"] = str(self.sizing.min_edge)
        described.update({k: str(v) for k, v in self.params.items()})
        return described


@dataclass(frozen=True)
class Grid:
    default: Choice
    choices: tuple[Choice, ...]

    @classmethod
    def for_strategy(
        cls,
        name: str,
        *,
        base: Sizing,
        decision_times: Sequence[DecisionTime],
        params: Mapping[str, Decimal] | None = None,
    ) -> Grid:
        """The grid a strategy is tuned over: only the parameters it takes, and every decision-time subset tried."""
        params = dict(params or {})
        labels = tuple(label(d) for d in decision_times)
        time_sets = [labels, *[(one,) for one in labels]] if len(labels) > 1 else [labels]
        sizings = [base]
        extras: list[dict[str, Decimal]] = [params]
        if name == ModelTaker.name:
            sizings = [
                replace(base, min_edge=e, kelly_fraction=k) for e, k in itertools.product(EDGES, KELLY_FRACTIONS)
            ]
        elif name == ModelMaker.name:
            sizings = [replace(base, kelly_fraction=k) for k in KELLY_FRACTIONS]
            extras = [params | {"margin": m} for m in MARGINS]
        elif name == BracketArb.name:
            extras = [params | {"min_edge": e} for e in EDGES]
        choices = tuple(
            Choice(name, sizing, extra, times) for times, sizing, extra in itertools.product(time_sets, sizings, extras)
        )
        return cls(Choice(name, base, params, labels), choices)


@dataclass(frozen=True)
class Fold:
    start: date
    end: date

    @property
    def name(self) -> str:
        return f"{self.start:%Y-%m}"


@dataclass
class WalkForward:
    spec: BacktestSpec  # replays the range with each fold's choice
    report: list[dict[str, Any]] = field(default_factory=list)


def folds(days: Sequence[date]) -> list[Fold]:
    """The calendar months the days fall in, each clipped to the days."""
    by_month: dict[tuple[int, int], list[date]] = {}
    for day in days:
        by_month.setdefault((day.year, day.month), []).append(day)
    return [Fold(min(month), max(month)) for _, month in sorted(by_month.items())]


def walk_forward(
    history: History, spec: BacktestSpec, grid: Grid, *, days: Sequence[date], progress: Progress = SILENT
) -> WalkForward:
    """The spec whose schedule trades each fold with the grid point that earned most on the folds before it."""
    months = folds(days)
    earnings = []
    for n, choice in enumerate(grid.choices, start=1):
        scheduled = replace(spec, strategy_for=_schedule({m: choice for m in months}, months))
        result = run_backtest(
            history, scheduled, progress=progress, title=f"{choice.strategy} grid {n}/{len(grid.choices)}"
        )
        by_fold = dict.fromkeys(months, Decimal(0))
        for settled in settle_fills(result):
            fold = _fold_of(settled.target_date, months)
            if fold is not None and settled.pnl is not None:
                by_fold[fold] += settled.pnl
        earnings.append(by_fold)
    chosen: dict[Fold, Choice] = {}
    outcome = WalkForward(spec)
    for i, fold in enumerate(months):
        if i == 0:
            chosen[fold] = grid.default
            outcome.report.append({"fold": fold.name, "chosen": grid.default.describe(), "on": "no earlier fold"})
            continue
        before = [sum((e[m] for m in months[:i]), Decimal(0)) for e in earnings]
        best = max(range(len(grid.choices)), key=lambda k: (before[k], -k))  # ties: the earlier, smaller point
        chosen[fold] = grid.choices[best]
        outcome.report.append(
            {
                "fold": fold.name,
                "chosen": grid.choices[best].describe(),
                "on": f"{months[0].name}..{months[i - 1].name}",
                "earlier_pnl_dollars": float(before[best]),
            }
        )
    outcome.spec = replace(spec, strategy_for=_schedule(chosen, months))
    return outcome


def _fold_of(day: date, months: Sequence[Fold]) -> Fold | None:
    return next((m for m in months if m.start <= day <= m.end), None)


def _schedule(chosen: Mapping[Fold, Choice], months: Sequence[Fold]) -> Any:
    built = {fold: choice.build() for fold, choice in chosen.items()}

    def strategy_for(day: date, name: str) -> Strategy | None:
        fold = _fold_of(day, months)
        if fold is None or name not in chosen[fold].times:
            return None
        return built[fold]

    return strategy_for
