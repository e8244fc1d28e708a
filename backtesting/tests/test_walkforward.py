from collections.abc import Callable
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

from backtesting.engine import BacktestSpec, run_backtest
from backtesting.fills import ConservativeFills
from backtesting.metrics import settle_fills
from backtesting.tests.worlds import TEN_AM, random_history
from backtesting.walkforward import Grid, folds, walk_forward
from prediction.cases import DecisionTime
from trading.limits import Limits, Sizing
from trading.strategies import Strategy

EVENING = DecisionTime(time(18), day_before=True)
TIMES = (EVENING, TEN_AM)
DAYS = [date(2025, 1, 6) + timedelta(days=n) for n in range(45)]


def test_folds_are_the_calendar_months_of_the_range():
    assert [(f.start, f.end) for f in folds(DAYS)] == [
        (date(2025, 1, 6), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 19)),
    ]


def test_the_grid_varies_only_what_a_strategy_takes():
    taker = Grid.for_strategy("model-taker", base=Sizing(), decision_times=TIMES)
    assert len(taker.choices) == 3 * 3 * 3  # edges x Kelly fractions x (both times, each alone)
    assert {c.times for c in taker.choices} == {("18:00-1", "10:00"), ("18:00-1",), ("10:00",)}
    longshot = Grid.for_strategy("longshot-no", base=Sizing(), decision_times=TIMES)
    assert len(longshot.choices) == 3 and all(c.sizing == Sizing() for c in longshot.choices)


def only_at(strategy: Strategy, times: tuple[str, ...]) -> Callable[[date, str], Strategy | None]:
    return lambda day, name: strategy if name in times else None


def test_each_month_trades_with_the_point_that_earned_most_before_it():
    history = random_history(5, days=45, decision_times=TIMES)
    spec = BacktestSpec(TIMES, Decimal(1000), Limits(), ConservativeFills(), strategy_for=lambda day, name: None)
    grid = Grid.for_strategy("longshot-yes", base=Sizing(), decision_times=TIMES)
    chosen = walk_forward(history, spec, grid, days=DAYS)
    january, february = chosen.report
    assert january == {"fold": "2025-01", "chosen": grid.default.describe(), "on": "no earlier fold"}
    # February's choice is the one with the best January alone, replayed here independently.
    januaries = []
    for choice in grid.choices:
        run = run_backtest(history, replace(spec, strategy_for=only_at(choice.build(), choice.times)))
        januaries.append(sum(f.pnl for f in settle_fills(run) if f.target_date.month == 1 and f.pnl is not None))
    best = max(range(len(januaries)), key=lambda k: (januaries[k], -k))
    assert february["chosen"] == grid.choices[best].describe()
    assert february["earlier_pnl_dollars"] == float(januaries[best])
    # The final schedule trades February only at the times chosen for it.
    for label in ("18:00-1", "10:00"):
        traded = chosen.spec.strategy_for(date(2025, 2, 10), label)
        assert (traded is not None) == (label in grid.choices[best].times)
