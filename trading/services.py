"""Trading workflows that cross models or reach outside the process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from kalshiweb.realtime import broadcast_on_commit
from prediction.models import ModelVersion, Readiness
from trading.models import TradingState, TradingStateChange

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
        broadcast_on_commit(
            {
                "type": "trading.state",
                "state": state,
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
