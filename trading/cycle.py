"""One trading cycle: catch up, check the kill switch's triggers, decide, cancel, reserve and send, log every market.

The same ``decide`` the backtest calls makes the decision; the broker plugged
in is the mode. A cycle is keyed by (mode, strategy, decision time): run
again for the same time (a worker killed mid-cycle and restarted), it makes
the same intents with the same client order ids, finds the orders already
reserved, and only sends what was never answered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from kalshiweb.bulk import insert_rows
from kalshiweb.metrics import count_cycle, count_risk_blocks
from kalshiweb.realtime import RiskBlockPayload, broadcast_all_on_commit, broadcast_on_commit, risk_block_event
from trading import execution
from trading.accounting import account_for, equity
from trading.brokers.base import Broker
from trading.decide import decide
from trading.decisions import Decision, EventView, OrderIntent, Pass, Snapshot
from trading.killswitch import trip, tripped
from trading.models import Account, DecisionLogEntry, Order, RiskLimits, TradingCycle, TradingState
from trading.risk import Verdict
from trading.services import mode_broker
from trading.snapshot import LIVE, Sources, build_snapshot
from trading.strategies import Strategy, strategy_named

logger = logging.getLogger(__name__)

Verdicts = DecisionLogEntry.Verdict


@dataclass
class Outcome:
    """What happened to one intent of the decision."""

    intent: OrderIntent
    verdict: Verdict
    order: Order | None


def run_cycle(
    broker: Broker,
    *,
    now: datetime,
    strategy: Strategy | None = None,
    sources: Sources = LIVE,
) -> TradingCycle:
    """Run one cycle at ``now`` with ``broker``; returns its record (also when skipped or failed)."""
    mode = str(broker.mode)
    limits_row = RiskLimits.load()
    strategy = strategy or strategy_named(settings.TRADING_STRATEGY, sizing=limits_row.sizing())
    cycle, _ = TradingCycle.objects.get_or_create(mode=mode, strategy=strategy.name, as_of=now)
    try:
        _run(cycle, broker, strategy, limits_row, now, sources)
    except Exception as exc:
        logger.exception("Trading cycle at %s failed", now)
        cycle.outcome, cycle.detail = TradingCycle.Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        cycle.errors += 1
    cycle.finished_at = now
    cycle.save()
    count_cycle(mode, failed=cycle.outcome == TradingCycle.Outcome.FAILED or cycle.errors > 0)
    broadcast_on_commit({"type": "trading.cycle", "mode": mode, "outcome": cycle.outcome, "placed": cycle.placed})
    return cycle


def run_trading_cycle(*, now: datetime) -> TradingCycle:
    """One trading cycle of the configured mode at ``now``; raises BrokerUnavailable when the mode may not trade."""
    with mode_broker() as broker:
        return run_cycle(broker, now=now)


def _run(
    cycle: TradingCycle,
    broker: Broker,
    strategy: Strategy,
    limits_row: RiskLimits,
    now: datetime,
    sources: Sources,
) -> None:
    mode = cycle.mode
    execution.catch_up(broker, now=now)
    execution.resend_unanswered(broker, now=now)
    state = TradingState.load()
    snapshot = build_snapshot(mode=mode, now=now, limits=limits_row.limits(), status=state.status, sources=sources)
    tickers = [m.ticker for e in snapshot.events for m in e.markets]
    watched = tickers if sources.live else []  # a replay's prices are as old as its quote window allows
    if state.state != TradingState.State.HALTED:
        active = broker.trading_active() if sources.live else None
        found = tripped(
            mode,
            now=now,
            limits=limits_row,
            tickers=watched,
            exchange_active=active,
            needs_forecasts=getattr(strategy, "uses_model", False),
        )
        if found is not None:
            trip(mode, found, broker, now=now)
            cycle.outcome, cycle.detail = TradingCycle.Outcome.SKIPPED, f"kill switch tripped: {found.reason}"
            return
    cycle.events, cycle.markets = len(snapshot.events), len(tickers)
    decision = decide(snapshot, strategy)
    for client_order_id in decision.cancels:
        order = Order.objects.filter(client_order_id=client_order_id, mode=mode).first()
        if order is not None:
            execution.cancel(order, broker, now=now, reason="the strategy withdrew it")
            cycle.cancelled += 1
    max_age = timedelta(minutes=limits_row.max_order_age_minutes)
    cycle.cancelled += execution.cancel_stale(mode, broker, now=now, max_age=max_age)
    outcomes = _place(decision, snapshot, broker, limits_row, now)
    cycle.intents = len(decision.intents)
    cycle.placed = sum(1 for o in outcomes if o.order is not None and o.order.status not in _NOT_PLACED)
    cycle.queued = sum(1 for o in outcomes if o.order is not None and o.order.status == Order.Status.AWAITING_APPROVAL)
    _log(cycle, snapshot, decision, outcomes, now)
    cycle.cash, cycle.equity = _mark_peak(mode)
    cycle.outcome = TradingCycle.Outcome.DONE


_NOT_PLACED = (Order.Status.AWAITING_APPROVAL, Order.Status.REJECTED, Order.Status.PENDING)


def _place(
    decision: Decision, snapshot: Snapshot, broker: Broker, limits_row: RiskLimits, now: datetime
) -> list[Outcome]:
    events = {e.event_ticker: e for e in snapshot.events}
    wanted = []
    for intent in decision.intents:
        event = events[intent.event_ticker]
        wanted.append(execution.Reservation(intent, event, next(m for m in event.markets if m.ticker == intent.ticker)))
    reserved = execution.reserve_all(
        wanted,
        mode=str(broker.mode),
        limits=snapshot.limits,
        status=snapshot.status,
        now=now,
        approval=limits_row.require_approval,
    )
    due = [order for order, _ in reserved if order is not None and order.status == Order.Status.PENDING]
    sent = {order.pk: order for order in execution.send_all(due, broker, now=now)}
    return [
        Outcome(w.intent, verdict, sent.get(order.pk, order) if order is not None else None)
        for w, (order, verdict) in zip(wanted, reserved, strict=True)
    ]


def _log(cycle: TradingCycle, snapshot: Snapshot, decision: Decision, outcomes: list[Outcome], now: datetime) -> None:
    """One entry per market of every event the cycle saw: what we believed, the prices, and the verdict."""
    by_ticker = {o.intent.ticker: o for o in outcomes}
    passes = {p.ticker: p for p in decision.passes}
    entries = []
    for event in snapshot.events:
        for market in event.markets:
            entries.append(
                _entry(cycle, event, market.ticker, by_ticker.get(market.ticker), passes.get(market.ticker), now)
            )
    with transaction.atomic():
        DecisionLogEntry.objects.filter(cycle=cycle).delete()  # a rerun of the cycle logs it afresh
        rows = [[cycle.pk, *(getattr(e, name) for name in LOGGED[1:-1]), json.dumps(e.rules)] for e in entries]
        insert_rows(DecisionLogEntry, LOGGED, rows)  # a row per market per cycle: the fast path
        broadcast_all_on_commit(_risk_blocks(cycle.mode, entries))
        count_risk_blocks(cycle.mode, [e.rules for e in entries if e.verdict == Verdicts.REFUSED])


def _risk_blocks(mode: str, entries: list[DecisionLogEntry]) -> list[RiskBlockPayload]:
    """A live event for each market the risk rules refused this cycle."""
    return [
        risk_block_event(mode=mode, ticker=e.ticker, rules=e.rules, reason=e.reason)
        for e in entries
        if e.verdict == Verdicts.REFUSED
    ]


LOGGED = [
    "cycle", "mode", "at", "strategy", "event_ticker", "ticker", "probability", "market_probability", "yes_bid",
    "yes_ask", "side", "price", "edge", "size", "verdict", "reason", "client_order_id", "rules",
]  # fmt: skip


def _entry(
    cycle: TradingCycle,
    event: EventView,
    ticker: str,
    outcome: Outcome | None,
    passed: Pass | None,
    now: datetime,
) -> DecisionLogEntry:
    market = next(m for m in event.markets if m.ticker == ticker)
    entry = DecisionLogEntry(
        cycle=cycle,
        mode=cycle.mode,
        at=now,
        strategy=cycle.strategy,
        event_ticker=event.event_ticker,
        ticker=ticker,
        probability=market.probability,
        market_probability=market.market_probability,
        yes_bid=market.quote.yes_bid,
        yes_ask=market.quote.yes_ask,
    )
    if outcome is not None:
        intent, order = outcome.intent, outcome.order
        entry.side, entry.price, entry.edge = intent.buys.value, intent.own_price, intent.expected_value
        entry.client_order_id = intent.client_order_id
        entry.rules = [str(r) for r in outcome.verdict.rules]
        if order is None:
            entry.verdict, entry.reason = Verdicts.REFUSED, f"{intent.reason}; risk: {outcome.verdict.reason}"
            entry.size = 0
        else:
            entry.size = order.count
            entry.verdict = {
                Order.Status.AWAITING_APPROVAL: Verdicts.QUEUED,
                Order.Status.UNKNOWN: Verdicts.BLOCKED,
                Order.Status.REJECTED: Verdicts.BLOCKED,
            }.get(Order.Status(order.status), Verdicts.ORDERED)
            entry.reason = order.reason
    elif passed is not None:
        entry.verdict = Verdicts.REFUSED if passed.rules else Verdicts.PASSED
        entry.reason, entry.rules = passed.reason, [str(r) for r in passed.rules]
    else:
        entry.verdict, entry.reason = Verdicts.PASSED, "no order proposed"
    return entry


def _mark_peak(mode: str) -> tuple[Decimal, Decimal]:
    """Raise the account's peak equity if passed; the cash and equity the cycle leaves (its equity history)."""
    with transaction.atomic():
        account = account_for(mode, lock=True)
        now_equity = equity(account)
        if now_equity > account.peak_equity:
            Account.objects.filter(pk=account.pk).update(peak_equity=now_equity)
    return account.cash, now_equity
