"""``decide(snapshot, strategy) -> Decision``: the one decision path of live trading and backtests.

The strategy proposes; every proposal is then checked by trading.risk against
the exposure of the portfolio (after the cancels the strategy asked for) plus
what the decision's earlier intents reserved. What risk reduces keeps its
reason; what it refuses becomes a pass with the reason. Each approved intent
gets its deterministic client order id here, once its count is final.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from trading.decisions import Decision, OrderIntent, Pass, Snapshot, client_order_id
from trading.risk import Exposure, at_risk, check_order
from trading.strategies import Strategy


def decide(snapshot: Snapshot, strategy: Strategy) -> Decision:
    proposal = strategy.propose(snapshot)
    cancelled = set(proposal.cancels)
    remaining = replace(
        snapshot.portfolio, working=tuple(o for o in snapshot.portfolio.working if o.client_order_id not in cancelled)
    )
    exposure = Exposure.of(remaining)
    events = {e.event_ticker: e for e in snapshot.events}
    intents: list[OrderIntent] = []
    passes = list(proposal.passes)
    for proposed in proposal.intents:
        event = events[proposed.event_ticker]
        market = next(m for m in event.markets if m.ticker == proposed.ticker)
        verdict = check_order(
            proposed,
            event=event,
            market=market,
            exposure=exposure,
            limits=snapshot.limits,
            status=snapshot.status,
            now=snapshot.as_of,
        )
        if not verdict.approved:
            passes.append(Pass(proposed.ticker, f"{proposed.reason}; risk: {verdict.reason}", verdict.rules))
            continue
        approved = _final(proposed, verdict.count, verdict.reason, snapshot)
        exposure.reserve(approved, event, approved.count, at_risk(approved, event, approved.count, at=snapshot.as_of))
        intents.append(approved)
    return Decision(snapshot.as_of, strategy.name, tuple(intents), tuple(proposal.cancels), tuple(passes))


def _final(intent: OrderIntent, count: Decimal, note: str, snapshot: Snapshot) -> OrderIntent:
    """The intent with the count risk approved, its reason noting any reduction, and its client order id."""
    identity = client_order_id(
        strategy=intent.strategy,
        ticker=intent.ticker,
        side=intent.side,
        price=intent.price,
        count=count,
        as_of=snapshot.as_of,
    )
    reason = f"{intent.reason}; risk: {note}" if note else intent.reason
    return replace(intent, count=count, reason=reason, client_order_id=identity)
