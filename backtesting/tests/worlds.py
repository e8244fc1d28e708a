"""Small hand-written and generated histories for the engine's tests (written by us, not recorded data)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np

from backtesting.engine import EventHistory, History, MarketHistory, decision_moments
from backtesting.tape import Tape, to_micros
from markets.brackets import Bracket
from prediction.cases import DecisionTime
from trading.fees import FeeSchedule

WEATHER_FEES = FeeSchedule("quadratic", Decimal(1))
TEN_AM = DecisionTime(time(10))
ZONE = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tape(*prints: tuple[str, str, int, str]) -> Tape:
    """A tape from (UTC time, YES price, contracts, taker side 'yes'/'no') prints."""
    if not prints:
        return Tape.empty()
    return Tape.from_prints(
        np.array([to_micros(utc(t)) for t, _, _, _ in prints], dtype=np.int64),
        np.array([int(Decimal(p) * 1_000_000) for _, p, _, _ in prints], dtype=np.int64),
        np.array([n * 100 for _, _, n, _ in prints], dtype=np.int64),
        np.array([side == "yes" for _, _, _, side in prints], dtype=np.bool_),
    )


def event(
    ticker: str,
    day: date,
    markets: Sequence[tuple[str, Bracket, Tape, Decimal | None]],
    *,
    series: str = "KXHIGHNY",
    fees: FeeSchedule = WEATHER_FEES,
) -> EventHistory:
    """An event of ``day`` in New York: listed 10:00 the day before, closing 23:59, settled 10:00 the day after."""
    listed = datetime.combine(day - timedelta(days=1), time(15), tzinfo=UTC)
    return EventHistory(
        event_ticker=ticker,
        series_ticker=series,
        city="New York",
        zone=ZONE,
        target_date=day,
        close_time=datetime.combine(day + timedelta(days=1), time(4, 59), tzinfo=UTC),
        settles_at=datetime.combine(day + timedelta(days=1), time(15), tzinfo=UTC),
        fees=fees,
        markets=tuple(MarketHistory(t, b, tp, payout) for t, b, tp, payout in markets),
        listed_at=listed,
    )


def random_history(seed: int, *, days: int = 6, decision_times: tuple[DecisionTime, ...] = (TEN_AM,)) -> History:
    """Events with random tapes and model forecasts: prints all day long, on both sides, in sweeps too."""
    rng = random.Random(seed)
    events, forecasts = [], {}
    brackets = [Bracket(None, 39), Bracket(40, 41), Bracket(42, 43), Bracket(44, None)]
    for n in range(days):
        day = date(2025, 1, 6) + timedelta(days=n)
        winner = rng.randrange(len(brackets))
        fair = [rng.random() + (1.5 if i == winner else 0.2) for i in range(len(brackets))]
        fair = [f / sum(fair) for f in fair]
        markets = []
        for i, bracket in enumerate(brackets):
            prints = []
            start = datetime.combine(day - timedelta(days=1), time(15), tzinfo=UTC)
            for _ in range(rng.randrange(5, 60)):
                moment = start + timedelta(seconds=rng.randrange(0, 37 * 3600))
                price = min(0.99, max(0.01, fair[i] + rng.uniform(-0.08, 0.08)))
                side = rng.choice(("yes", "no"))
                text = moment.strftime("%Y-%m-%dT%H:%M:%S")
                prints.append((text, f"{price:.2f}", rng.randrange(1, 40), side))
                if rng.random() < 0.1:  # a sweep: a second print at the same moment
                    prints.append((text, f"{min(0.99, price + 0.01):.2f}", rng.randrange(1, 20), side))
            markets.append((f"EV{n}-{i}", bracket, tape(*prints), Decimal(1) if i == winner else Decimal(0)))
        history_event = event(f"EV{n}", day, markets)
        events.append(history_event)
        for _, name in decision_moments(history_event, decision_times):
            noisy = [max(0.01, f + rng.uniform(-0.15, 0.15)) for f in fair]
            forecasts[(history_event.event_ticker, name)] = tuple(x / sum(noisy) for x in noisy)
    return History(tuple(events), forecasts)


def known_at(history: History, moment: datetime, decision_times: tuple[DecisionTime, ...]) -> History:
    """The history as it stood at ``moment``: later prints, later forecasts and unknown results deleted."""
    cut = to_micros(moment)
    events, forecasts = [], {}
    for original in history.events:
        settled = original.settles_at <= moment
        markets = tuple(
            replace(m, tape=m.tape.until(cut), payout=m.payout if settled else None) for m in original.markets
        )
        events.append(replace(original, markets=markets))
        for decided_at, name in decision_moments(original, decision_times):
            key = (original.event_ticker, name)
            if decided_at <= moment and key in history.forecasts:
                forecasts[key] = history.forecasts[key]
    return History(tuple(events), forecasts)
