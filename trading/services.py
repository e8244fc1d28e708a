"""Trading workflows that cross models or reach outside the process."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from kalshiweb.modes import TradingMode
from kalshiweb.realtime import broadcast_on_commit
from prediction.models import ModelVersion, Readiness
from trading.models import (
    Order,
    Position,
    RiskLimitChange,
    RiskLimits,
    Settlement,
    TradingState,
    TradingStateChange,
)

if TYPE_CHECKING:
    from trading.brokers import Broker

logger = logging.getLogger(__name__)


class TradingStateError(ValueError):
    """A trading-state change that was refused, with a message for the operator."""


@dataclass(frozen=True)
class TradingGate:
    """Whether new positions may be opened now, and every reason they may not."""

    may_open_positions: bool
    reasons: tuple[str, ...]
    state: TradingState
    model: Readiness


def trading_gate(*, now: datetime) -> TradingGate:
    """What the strategy asks before any new exposure: the kill switch and a ready model."""
    state = TradingState.load()
    model = ModelVersion.objects.readiness(now=now)
    reasons = []
    if not state.allows_new_exposure:
        reasons.append(f"trading is {state.get_state_display().lower()}: {state.reason}")
    if not model.ready:
        reasons.append(f"model not ready: {model.reason}")
    return TradingGate(not reasons, tuple(reasons), state, model)


def set_trading_state(*, state: str, reason: str, actor: str, now: datetime) -> TradingState:
    """Move the kill switch to ``state``, recording who did it and why.

    Halting (by anyone: the admin, the API, the command, an automatic trip or
    start-up) also cancels every working order of the configured mode once
    the change is committed; a broker that cannot be reached is logged, never
    raised into the caller.

    The row is locked for the change so two operators (or an operator and an
    automatic trip) cannot interleave. Setting the current state again only
    updates the reason. A reason is required for every change.
    """
    if state not in TradingState.State.values:
        raise TradingStateError(f"Unknown trading state {state!r}; use one of {', '.join(TradingState.State.values)}.")
    reason = reason.strip()
    if not reason:
        raise TradingStateError("Give a reason: it is shown to every operator and kept in the audit trail.")
    with transaction.atomic():
        TradingState.load()  # make sure the row exists before locking it
        current = TradingState.objects.select_for_update().get(pk=TradingState.SINGLETON_PK)
        previous = current.state
        current.state, current.reason, current.changed_by, current.changed_at = state, reason, actor, now
        current.save(update_fields=["state", "reason", "changed_by", "changed_at"])
        TradingStateChange.objects.create(from_state=previous, to_state=state, reason=reason, actor=actor, at=now)
        if state == TradingState.State.HALTED:
            transaction.on_commit(lambda: _cancel_after_halt(reason=reason, now=now))
        broadcast_on_commit(
            {
                "type": "trading.state",
                "state": state,
                "label": TradingState.State(state).label,
                "reason": reason,
                "changed_by": actor,
                "changed_at": now.isoformat(),
            }
        )
    log = logger.warning if state != TradingState.State.ACTIVE else logger.info
    log("Trading state %s -> %s by %s: %s", previous, state, actor, reason)
    return current


def halt_trading(*, reason: str, actor: str, now: datetime) -> TradingState:
    """The kill switch: refuse every new order from now on."""
    return set_trading_state(state=TradingState.State.HALTED, reason=reason, actor=actor, now=now)


def resume_trading(*, reason: str, actor: str, now: datetime) -> TradingState:
    return set_trading_state(state=TradingState.State.ACTIVE, reason=reason, actor=actor, now=now)


def trading_mode() -> TradingMode:
    """The configured mode as the enum (settings may hold a plain string, e.g. under override_settings)."""
    return TradingMode(settings.TRADING_MODE)


@contextmanager
def mode_broker(mode: TradingMode | None = None, *, cancelling: bool = False) -> Iterator[Broker]:
    """The broker of ``mode`` (default: the configured one), with its Kalshi client closed afterwards.

    Raises trading.brokers.BrokerUnavailable when the mode may not trade (LIVE not armed, unconfirmed, no key).
    """
    from trading.brokers import broker_for

    mode = mode or trading_mode()
    if mode is TradingMode.DRY:
        yield broker_for(mode)
        return
    from markets.connection import kalshi_client

    with kalshi_client(refresh_limits=True) as client:
        yield broker_for(mode, client=client, cancelling=cancelling)


def cancel_working_orders(*, reason: str, now: datetime) -> int:
    """Cancel every resting or queued order of the configured mode; returns how many were cancelled."""
    from trading.execution import cancel_working

    mode = trading_mode()
    if not Order.objects.filter(
        mode=mode, status__in=[Order.Status.RESTING, Order.Status.AWAITING_APPROVAL, Order.Status.PENDING]
    ).exists():
        return 0
    with mode_broker(mode, cancelling=True) as broker:
        return cancel_working(mode, broker, now=now, reason=reason)


def _cancel_after_halt(*, reason: str, now: datetime) -> None:
    """After a halt is committed: cancel what still works at the exchange. Never raises (an admin request waits)."""
    try:
        cancelled = cancel_working_orders(reason=f"trading halted: {reason}", now=now)
    except Exception as exc:  # the halt stands whatever happens here; the operator must see why orders remain
        logger.error(
            "Trading halted, but its working %s orders could not be cancelled (%s: %s); "
            "cancel them at the exchange or retry the halt",
            trading_mode(),
            type(exc).__name__,
            exc,
        )
        return
    if cancelled:
        logger.warning("Trading halted: %d working %s orders cancelled", cancelled, trading_mode())


STARTUP_ACTOR = "system:startup"
STARTUP_REASON = "LIVE process started: review, then resume"


def on_process_start(*, now: datetime) -> TradingState | None:
    """A LIVE process starts halted, so no real order goes out before an operator has looked.

    Called when a Celery worker is ready (kalshiweb.celery) and by the embedded
    runner. Returns the new state when it halted, None otherwise (not LIVE, or
    already halted).
    """
    if trading_mode() is not TradingMode.LIVE:
        return None
    if TradingState.load().state == TradingState.State.HALTED:
        return None
    return halt_trading(reason=STARTUP_REASON, actor=STARTUP_ACTOR, now=now)


def settle_paper_positions(*, now: datetime) -> list[Settlement]:
    """DRY: settle each open paper position whose market has a yes/no result ($1 or $0 per YES contract).

    DEMO and LIVE are settled from the exchange's own settlements by reconciliation, never from here.
    """
    from markets.models import Market
    from trading.accounting import record_settlement

    mode = TradingMode.DRY
    open_tickers = Position.objects.filter(mode=mode, settled=False).values_list("ticker", flat=True)
    results = Market.objects.filter(ticker__in=list(open_tickers), result__in=[Market.Result.YES, Market.Result.NO])
    settled = []
    for market in results:
        payout = Decimal(1) if market.result == Market.Result.YES else Decimal(0)
        when = market.settled_at or market.expiration_time or now
        made = record_settlement(
            market.ticker, mode=mode, result=market.result, payout=payout, settled_time=when, now=now
        )
        if made is not None:
            settled.append(made)
    return settled


def confirm_live_trading(*, actor: str, now: datetime) -> TradingState:
    """Record an operator's confirmation that LIVE may trade real money (one of LIVE's three conditions)."""
    with transaction.atomic():
        TradingState.load()
        state = TradingState.objects.select_for_update().get(pk=TradingState.SINGLETON_PK)
        state.live_confirmed_at, state.live_confirmed_by = now, actor
        state.save(update_fields=["live_confirmed_at", "live_confirmed_by"])
    logger.warning("LIVE trading confirmed by %s", actor)
    return state


def _same_mode(order: Order, action: str) -> TradingMode:
    mode = trading_mode()
    if order.mode != mode:
        raise TradingStateError(f"Cannot {action} a {order.mode} order: this installation trades {mode}.")
    return mode


def approve_order(order: Order, *, actor: str, now: datetime) -> Order:
    """Send a queued order as it was reserved, through the configured mode's broker.

    Refused while trading is halted, for an order of another mode, and for one
    queued longer than the risk limits' max order age (its price was decided
    on an old view: reject it instead). Raises BrokerUnavailable when the mode
    may not trade.
    """
    from trading.execution import approve

    if order.status != Order.Status.AWAITING_APPROVAL:
        return order
    mode = _same_mode(order, "approve")
    state = TradingState.load()
    if state.state == TradingState.State.HALTED:
        raise TradingStateError(f"Trading is halted ({state.reason}); resume it before approving orders.")
    max_age = timedelta(minutes=RiskLimits.load().max_order_age_minutes)
    if now - order.created_at > max_age:
        raise TradingStateError(
            f"Queued {(now - order.created_at).total_seconds() / 60:.0f} min ago, longer than the max order age "
            f"({max_age.total_seconds() / 60:.0f} min): its price is stale, reject it."
        )
    with mode_broker(mode) as broker:
        return approve(order, broker, actor=actor, now=now)


def reject_order(order: Order, *, actor: str, now: datetime) -> Order:
    """Withdraw a queued order an operator did not approve."""
    from trading.execution import reject

    return reject(order, actor=actor, now=now)


def cancel_order(order: Order, *, actor: str, now: datetime) -> Order:
    """Cancel what rests of one order at the configured mode's exchange."""
    return cancel_orders([order], actor=actor, now=now)[0]


def cancel_orders(orders: list[Order], *, actor: str, now: datetime) -> list[Order]:
    """Cancel what rests of these orders (an operator's bulk cancel) with one broker; the orders as they end.

    Cancelling reaches the exchange even when the mode may not place orders
    (LIVE disarmed): what rests there must always be cancellable.
    """
    from trading.execution import cancel

    cancellable = (Order.Status.RESTING, Order.Status.PENDING, Order.Status.AWAITING_APPROVAL)
    due = [o for o in orders if o.status in cancellable]
    if not due:
        return orders
    mode = _same_mode(due[0], "cancel")
    for order in due[1:]:
        _same_mode(order, "cancel")
    done = {}
    with mode_broker(mode, cancelling=True) as broker:
        for order in due:
            done[order.pk] = cancel(order, broker, now=now, reason=f"cancelled by {actor}")
    return [done.get(o.pk, o) for o in orders]


def update_risk_limits(
    changes: Mapping[str, Any], *, actor: str, now: datetime, via: str, reason: str = ""
) -> RiskLimits:
    """Change some risk limits, recording each changed one (old → new) in the audit trail.

    The one way the dashboard, the admin and the API change them. The limits
    are validated as a whole (django's ValidationError, by field) before
    anything is saved; a limit given its current value is neither saved nor
    recorded. The row is locked so two operators' changes cannot interleave.
    """
    editable = RiskLimitChange.editable_fields()
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise ValidationError({name: "Not a risk limit that can be changed." for name in unknown})
    with transaction.atomic():
        RiskLimits.load()  # make sure the row exists before locking it
        limits = RiskLimits.objects.select_for_update().get(pk=RiskLimits.SINGLETON_PK)
        before = {name: getattr(limits, name) for name in changes}
        for name, value in changes.items():
            setattr(limits, name, value)
        limits.full_clean()
        changed = [name for name in changes if getattr(limits, name) != before[name]]
        if not changed:
            return limits
        limits.updated_by = actor
        limits.save()
        RiskLimitChange.objects.bulk_create(
            RiskLimitChange.of(name, before[name], getattr(limits, name), actor=actor, at=now, via=via, reason=reason)
            for name in changed
        )
    logger.warning("Risk limits changed by %s via %s: %s", actor, via, ", ".join(changed))
    return limits
