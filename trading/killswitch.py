"""The kill switch's automatic triggers, and what halting does: no new orders, resting ones cancelled.

Each trigger is checked at the start of every trading cycle, against the
limits the operator set: the day's realised loss, the drawdown from peak
equity, forecasts or books older than the data-age limit, the exchange saying
trading is not active, and repeated exchange errors. The first that fires
halts trading, as ``system:<trigger>``, with a reason a person can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max

from kalshiweb.realtime import broadcast_on_commit, killswitch_event
from markets.models import OrderBookSnapshot
from prediction.models import Prediction
from trading.accounting import account_for, equity, realized_on
from trading.brokers.base import Broker
from trading.execution import cancel_working
from trading.models import RiskLimits, TradingState
from trading.services import halt_trading

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trip:
    trigger: str  # daily_loss, drawdown, stale_forecasts, stale_books, exchange_inactive, exchange_errors
    reason: str


def tripped(
    mode: str,
    *,
    now: datetime,
    limits: RiskLimits,
    tickers: list[str],
    exchange_active: bool | None = None,
    needs_forecasts: bool = True,
) -> Trip | None:
    """The first trigger that fires now, or None.

    ``tickers``: the open markets the cycle would trade, whose books must be
    fresh; ``needs_forecasts``: whether the strategy trades on the model's
    predictions (then they must be fresh too).
    """
    account = account_for(mode)
    day = realized_on(mode, now)
    if -day >= limits.max_daily_loss:
        return Trip("daily_loss", f"daily loss ${-day:,.2f} reached the limit ${limits.max_daily_loss:,.2f}")
    drawdown = account.peak_equity - equity(account)
    if drawdown >= limits.max_drawdown:
        return Trip("drawdown", f"drawdown ${drawdown:,.2f} from peak reached the limit ${limits.max_drawdown:,.2f}")
    if account.consecutive_errors >= limits.max_consecutive_exchange_errors:
        return Trip("exchange_errors", f"{account.consecutive_errors} exchange errors in a row")
    if exchange_active is False:
        return Trip("exchange_inactive", "the exchange reports trading_active=false")
    if tickers:
        return _stale(now, timedelta(minutes=limits.max_data_age_minutes), tickers, needs_forecasts)
    return None


def _stale(now: datetime, max_age: timedelta, tickers: list[str], needs_forecasts: bool) -> Trip | None:
    forecast = Prediction.objects.filter(as_of__lte=now).aggregate(at=Max("as_of"))["at"]
    if needs_forecasts and (forecast is None or now - forecast > max_age):
        when = "never" if forecast is None else f"last at {forecast:%Y-%m-%d %H:%M}Z"
        return Trip("stale_forecasts", f"no prediction within {_minutes(max_age)} ({when})")
    book = OrderBookSnapshot.objects.filter(market__ticker__in=tickers, captured_at__lte=now).aggregate(
        at=Max("captured_at")
    )["at"]
    if book is None or now - book > max_age:
        when = "never" if book is None else f"last at {book:%Y-%m-%d %H:%M}Z"
        return Trip("stale_books", f"no order book of an open market within {_minutes(max_age)} ({when})")
    return None


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def trip(mode: str, found: Trip, broker: Broker, *, now: datetime) -> None:
    """Halt trading for ``found`` and cancel every working order of the mode with the cycle's own broker.

    (Halting also cancels once it commits, through the configured broker: cancelling twice is harmless,
    and the cycle's broker is the one that placed them.)
    """
    if TradingState.load().state != TradingState.State.HALTED:
        halt_trading(reason=f"Tripped automatically: {found.reason}.", actor=f"system:{found.trigger}", now=now)
        broadcast_on_commit(killswitch_event(mode=mode, reasons=[found.reason]))
    cancelled = cancel_working(mode, broker, now=now, reason=f"kill switch ({found.trigger})")
    logger.warning("Kill switch tripped (%s): %s; %d orders cancelled", found.trigger, found.reason, cancelled)
