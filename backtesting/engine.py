"""The backtest: recorded history replayed through the same decision and risk code as live trading.

For every event and decision time, the engine builds the snapshot the live
system would have had then: the model's probabilities as forecast at that
moment (walk-forward, from backtesting.forecasts), and quotes from the tape
*up to* that moment only. It calls ``trading.decide``, hands the approved
intents to the simulated broker, and lets time run on: orders fill from later
prints (backtesting.fills), and each event settles on the market's result
when that result was known, not before, so a later decision's bankroll never
holds money it could not yet have had.

Nothing here reads data past the moment it stands at, which the look-ahead
test checks by deleting everything after each decision time.

Pure: no Django.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from backtesting.broker import FillRecord, MarketInfo, SimulatedBroker
from backtesting.fills import FillModel
from backtesting.tape import MICROS, Tape, from_micros, price_of, to_micros
from kalshiweb.progress import SILENT, Progress
from markets.brackets import Bracket
from prediction.cases import DecisionTime
from trading.decide import decide
from trading.decisions import EventView, MarketView, OrderIntent, Pass, Quote, Snapshot, market_probabilities
from trading.fees import FeeSchedule
from trading.limits import Limits, TradingStatus
from trading.strategies import Strategy

ZERO = Decimal(0)
QUOTE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MarketHistory:
    ticker: str
    bracket: Bracket
    tape: Tape
    payout: Decimal | None  # dollars per YES contract at settlement; None while unknown


@dataclass(frozen=True)
class EventHistory:
    event_ticker: str
    series_ticker: str
    city: str
    zone: str  # the city's IANA time zone: decision times are its local clock
    target_date: date
    close_time: datetime
    settles_at: datetime  # when the result was known
    fees: FeeSchedule
    markets: tuple[MarketHistory, ...]  # lowest bracket first
    listed_at: datetime | None = None


@dataclass(frozen=True)
class History:
    events: tuple[EventHistory, ...]
    # (event ticker, decision label) → the model's P(YES) per market at that decision, aligned with the markets
    forecasts: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class BacktestSpec:
    decision_times: tuple[DecisionTime, ...]
    bankroll: Decimal
    limits: Limits
    fill_model: FillModel
    # The strategy deciding an event of that climate day at that decision time (None: no decision then).
    strategy_for: Callable[[date, str], Strategy | None]
    status: TradingStatus = TradingStatus.ACTIVE
    # A side's price is the last print of a taker on it within this time before the decision: an
    # older print says little of what is offered now (the tape has no book), so it is no price.
    quote_window: timedelta = QUOTE_WINDOW


@dataclass(frozen=True)
class DecisionRecord:
    """What one decision saw of one event, and what it did."""

    at: datetime
    label: str
    event_ticker: str
    series_ticker: str
    strategy: str
    markets: tuple[MarketView, ...]
    intents: tuple[OrderIntent, ...]
    passes: tuple[Pass, ...]


@dataclass
class BacktestResult:
    spec: BacktestSpec
    history: History
    fills: list[FillRecord] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    equity: list[tuple[datetime, Decimal]] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # events whose result was unknown at the end
    final_cash: Decimal = ZERO


def label(decision: DecisionTime) -> str:
    """A decision time's key in forecasts and reports: '10:00', or '18:00-1' for the evening before."""
    return f"{decision.clock:%H:%M}" + ("-1" if decision.day_before else "")


def decision_moments(event: EventHistory, decision_times: Sequence[DecisionTime]) -> list[tuple[datetime, str]]:
    """The UTC moments the event is decided at: each decision time while its markets are open."""
    moments = []
    for decision in decision_times:
        moment = decision.at(event.target_date, event.zone).astimezone(UTC)
        if (event.listed_at is None or event.listed_at <= moment) and moment < event.close_time:
            moments.append((moment, label(decision)))
    return moments


def run_backtest(
    history: History, spec: BacktestSpec, *, progress: Progress = SILENT, title: str = "Replaying"
) -> BacktestResult:
    broker = SimulatedBroker(spec.bankroll, spec.fill_model, _market_infos(history))
    result = BacktestResult(spec, history)
    decisions: dict[datetime, list[tuple[EventHistory, str]]] = defaultdict(list)
    settlements: dict[datetime, list[EventHistory]] = defaultdict(list)
    for event in history.events:
        for moment, name in decision_moments(event, spec.decision_times):
            decisions[moment].append((event, name))
        settlements[event.settles_at].append(event)
    moments = sorted(set(decisions) | set(settlements))
    progress.stage(f"{title}: {len(history.events):,} events, {spec.fill_model.name} fills", total=len(moments))
    peak = spec.bankroll
    for moment in moments:
        broker.advance(moment)
        if moment in settlements:
            _settle(broker, settlements[moment], moment, result)
            result.equity.append((moment, broker.equity()))
        if moment in decisions:
            peak = max(peak, broker.equity())
            _decide(broker, decisions[moment], moment, peak, history, spec, result)
        progress.advance()
    result.final_cash = broker.cash
    result.fills = broker.fills
    return result


def _market_infos(history: History) -> dict[str, MarketInfo]:
    return {
        market.ticker: MarketInfo(
            ticker=market.ticker,
            event_ticker=event.event_ticker,
            series_ticker=event.series_ticker,
            city=event.city,
            target_date=event.target_date,
            close=to_micros(event.close_time),
            fees=event.fees,
            tape=market.tape,
        )
        for event in history.events
        for market in event.markets
    }


def _settle(broker: SimulatedBroker, events: list[EventHistory], moment: datetime, result: BacktestResult) -> None:
    for event in events:
        broker.cancel_event(event.event_ticker)
        if any(market.payout is None for market in event.markets):
            result.unsettled.append(event.event_ticker)
            continue
        for market in event.markets:
            if market.payout is not None:
                broker.settle(market.ticker, market.payout, at=moment)


def _decide(
    broker: SimulatedBroker,
    due: list[tuple[EventHistory, str]],
    moment: datetime,
    peak: Decimal,
    history: History,
    spec: BacktestSpec,
    result: BacktestResult,
) -> None:
    """One decision per strategy over the events due now, against one view of the account."""
    by_strategy: dict[Strategy, list[tuple[EventHistory, str]]] = defaultdict(list)
    for event, name in due:
        strategy = spec.strategy_for(event.target_date, name)
        if strategy is not None:
            by_strategy[strategy].append((event, name))
    for strategy, events in by_strategy.items():
        views = tuple(event_view(event, name, moment, history, spec.quote_window) for event, name in events)
        snapshot = Snapshot(moment, views, broker.portfolio(at=moment, peak_equity=peak), spec.limits, spec.status)
        decision = decide(snapshot, strategy)
        for client_order_id in decision.cancels:
            broker.cancel(client_order_id)
        for intent in decision.intents:
            broker.submit(intent, at=moment)
        for (event, name), view in zip(events, views, strict=True):
            tickers = {m.ticker for m in view.markets}
            result.decisions.append(
                DecisionRecord(
                    at=moment,
                    label=name,
                    event_ticker=event.event_ticker,
                    series_ticker=event.series_ticker,
                    strategy=strategy.name,
                    markets=view.markets,
                    intents=tuple(i for i in decision.intents if i.event_ticker == event.event_ticker),
                    passes=tuple(p for p in decision.passes if p.ticker in tickers),
                )
            )


def event_view(
    event: EventHistory, name: str, moment: datetime, history: History, window: timedelta = QUOTE_WINDOW
) -> EventView:
    """The event as a decision at ``moment`` sees it: prices from the tape up to then, the model's forecast then."""
    at = to_micros(moment)
    quotes = [quote_at(market.tape, at, window) for market in event.markets]
    market_p = market_probabilities(quotes)
    model = history.forecasts.get((event.event_ticker, name))
    markets = tuple(
        MarketView(
            ticker=market.ticker,
            bracket=market.bracket,
            quote=quotes[i],
            probability=model[i] if model is not None else None,
            market_probability=market_p[i] if market_p is not None else None,
        )
        for i, market in enumerate(event.markets)
    )
    return EventView(
        event_ticker=event.event_ticker,
        series_ticker=event.series_ticker,
        city=event.city,
        target_date=event.target_date,
        fees=event.fees,
        markets=markets,
        close_time=event.close_time,
        model="walk-forward model" if model is not None else "",
    )


def quote_at(tape: Tape, at: int, window: timedelta = QUOTE_WINDOW) -> Quote:
    """The prices the tape shows by ``at``: the last ask a YES taker lifted and the last bid a NO taker hit.

    Only prints within ``window`` count. If the two cross (the market moved
    between them), the older one is no longer on offer and is dropped.
    """
    since = at - window // timedelta(microseconds=1)
    ask, bid = tape.yes.last_index(at), tape.no.last_index(at)
    ask_at = int(tape.yes.times[ask]) if ask >= 0 and tape.yes.times[ask] > since else None
    bid_at = int(tape.no.times[bid]) if bid >= 0 and tape.no.times[bid] > since else None
    yes_ask = int(tape.yes.prices[ask]) if ask_at is not None else None
    yes_bid = MICROS - int(tape.no.prices[bid]) if bid_at is not None else None
    if yes_ask is not None and yes_bid is not None and yes_bid >= yes_ask and ask_at is not None and bid_at is not None:
        if ask_at < bid_at:
            yes_ask = ask_at = None
        else:
            yes_bid = bid_at = None
    last = tape.last_yes_price(at)
    return Quote(
        yes_bid=price_of(yes_bid) if yes_bid is not None else None,
        yes_ask=price_of(yes_ask) if yes_ask is not None else None,
        last_price=price_of(last) if last is not None else None,
        bid_at=from_micros(bid_at) if bid_at is not None else None,
        ask_at=from_micros(ask_at) if ask_at is not None else None,
    )
