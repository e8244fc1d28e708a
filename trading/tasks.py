"""Celery tasks of the trading pipeline: each calls one service and logs what it did.

They are thin and safe to run twice: a cycle is keyed by its decision time
(trading.cycle), a settlement by mode and market (trading.accounting), and a
reconciliation only brings our ledger to what the exchange says. Only
transient exchange trouble (outages, rate limits) is retried; a mode that may
not trade (LIVE not armed, unconfirmed, no key) is a warning, not a retry:
it will not fix itself before the next run.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from markets.errors import ExchangeUnavailable, RateLimited
from trading.brokers import BrokerUnavailable
from trading.cycle import run_trading_cycle
from trading.reconcile import reconcile, reconcile_paper
from trading.services import settle_paper_positions, trading_mode

logger = logging.getLogger(__name__)

RETRY_ON = (ExchangeUnavailable, RateLimited)


# No retry: a failed cycle is recorded as such, and the next one (TRADING_CYCLE_SECONDS later) decides afresh.
@shared_task(ignore_result=True, soft_time_limit=240)
def trading_cycle_task() -> str | None:
    """One trading cycle of the configured mode now; returns its outcome (None when the mode may not trade)."""
    try:
        cycle = run_trading_cycle(now=timezone.now())
    except BrokerUnavailable as exc:
        logger.warning("No trading cycle in %s: %s", trading_mode(), exc)
        return None
    log = logger.info if cycle.outcome == cycle.Outcome.DONE else logger.warning
    log(
        "Trading cycle [%s] %s: %d markets, %d intents, %d placed, %d queued, %d cancelled%s",
        cycle.mode,
        cycle.outcome,
        cycle.markets,
        cycle.intents,
        cycle.placed,
        cycle.queued,
        cycle.cancelled,
        f"; {cycle.detail}" if cycle.detail else "",
    )
    return str(cycle.outcome)


@shared_task(ignore_result=True, soft_time_limit=120)
def settle_task() -> int:
    """DRY: settle paper positions in markets that have a result. DEMO and LIVE settle in reconciliation."""
    if trading_mode() != "DRY":
        return 0
    settled = settle_paper_positions(now=timezone.now())
    for settlement in settled:
        logger.info("Settled %s", settlement)
    return len(settled)


# Every 10 minutes: retries (about 30, 60, 120 s) stay within the interval.
@shared_task(
    ignore_result=True,
    soft_time_limit=300,
    autoretry_for=RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
)
def reconcile_task() -> bool | None:
    """Compare our ledger with the exchange's and fix it; returns whether it completed.

    DRY has no exchange account: its paper ledger is checked against its own fills and settlements.
    """
    mode = trading_mode()
    if mode == "DRY":
        return reconcile_paper(timezone.now()).complete
    from markets.connection import kalshi_client

    with kalshi_client(refresh_limits=True) as client:
        result = reconcile(client, mode=mode, now=timezone.now())
    logger.info("Reconciliation [%s]: %s", mode, result)
    return result.complete
