"""A recorded day through the live path: the trading cycle and its broker, fed from history instead of the feed.

The backtest decides each event at its decision times on quotes read from the
tape and on the walk-forward model's forecasts. A replay runs the live
trading cycle (``trading.cycle.run_cycle``: the live snapshot, the same
``decide``, execution and the decision log) at those same moments, with the
same quotes (:class:`TapeQuotes`, through ``backtesting.engine.quote_at``)
and forecasts (:class:`HistoryForecasts`), so the two must make the same
intents. Fills differ by design: the paper broker fills from books and later
trades in the database, the backtest from the tape by its fill model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backtesting.engine import QUOTE_WINDOW, History, decision_moments, quote_at
from backtesting.tape import Tape, to_micros
from markets.models import Event, Market
from prediction.cases import DecisionTime
from trading.brokers.base import Broker
from trading.cycle import run_cycle
from trading.decisions import Quote
from trading.models import TradingCycle
from trading.snapshot import Sources
from trading.strategies import Strategy


@dataclass(frozen=True)
class TapeQuotes:
    """Quotes as the backtest reads them: the last taker prints of each side within ``window``."""

    tapes: Mapping[str, Tape]  # by ticker
    window: timedelta = QUOTE_WINDOW

    def quotes(self, markets: Sequence[Market], now: datetime) -> dict[int, Quote]:
        at = to_micros(now)
        return {m.pk: quote_at(self.tapes[m.ticker], at, self.window) for m in markets if m.ticker in self.tapes}


@dataclass(frozen=True)
class HistoryForecasts:
    """The walk-forward model's probabilities of the events decided now, as the backtest has them."""

    history: History
    labels: Mapping[str, str]  # event ticker → the decision label it is decided under now

    def __call__(self, events: Sequence[Event], now: datetime) -> tuple[dict[int, float], str]:
        found: dict[int, float] = {}
        for event in events:
            label = self.labels.get(event.event_ticker)
            forecast = self.history.forecasts.get((event.event_ticker, label)) if label else None
            if forecast is None:
                continue
            ordered = _ordered(self.history, event.event_ticker)
            by_ticker = {m.ticker: m.pk for m in event.markets.all()}
            for ticker, p in zip(ordered, forecast, strict=True):
                if ticker in by_ticker:
                    found[by_ticker[ticker]] = p
        return found, "walk-forward model" if found else ""


def _ordered(history: History, event_ticker: str) -> list[str]:
    event = next(e for e in history.events if e.event_ticker == event_ticker)
    return [m.ticker for m in event.markets]


def replay(
    history: History,
    *,
    broker: Broker,
    strategy: Strategy,
    decision_times: Sequence[DecisionTime],
    window: timedelta = QUOTE_WINDOW,
) -> list[TradingCycle]:
    """Run the live trading cycle at every decision moment of the history's events; the cycles, in time order."""
    due: dict[datetime, dict[str, str]] = defaultdict(dict)
    for event in history.events:
        for moment, label in decision_moments(event, decision_times):
            due[moment][event.event_ticker] = label
    quotes = TapeQuotes({m.ticker: m.tape for e in history.events for m in e.markets}, window)
    cycles = []
    for moment in sorted(due):
        labels = due[moment]
        sources = Sources(
            quotes=quotes, probabilities=HistoryForecasts(history, labels), events=frozenset(labels), live=False
        )
        cycles.append(run_cycle(broker, now=moment, strategy=strategy, sources=sources))
    return cycles
