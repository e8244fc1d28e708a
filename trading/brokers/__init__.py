"""The brokers, one per trading mode: the paper book for DRY, Kalshi for DEMO and LIVE.

``broker_for`` is the one place a mode becomes a broker. Callers never test
the mode themselves: they use the broker they are given. LIVE needs the
setting *and* the admin's confirmation *and* a usable key, or it refuses to
exist, saying which is missing.
"""

from __future__ import annotations

from django.conf import settings

from kalshiweb.modes import TradingMode
from markets.client import KalshiClient
from trading.brokers.base import Broker, BrokerUnavailable, Placement
from trading.brokers.kalshi import KalshiBroker, live_order_group
from trading.brokers.paper import PaperBroker
from trading.models import TradingState


def live_problems(*, has_key: bool) -> list[str]:
    """Why LIVE may not trade now (empty: armed, confirmed and keyed)."""
    problems = []
    if not settings.LIVE_TRADING_ARMED:
        problems.append("LIVE_TRADING_ARMED is not set")
    if TradingState.load().live_confirmed_at is None:
        problems.append("no operator has confirmed LIVE trading in the admin (Trading state → Confirm LIVE)")
    if not has_key:
        problems.append("no usable Kalshi production API key")
    return problems


def broker_for(mode: TradingMode, *, client: KalshiClient | None = None, cancelling: bool = False) -> Broker:
    """The broker of ``mode``; a Kalshi client comes from settings unless one is given (tests, the local exchange).

    ``cancelling``: a broker only asked to cancel (the kill switch). LIVE
    gives one even when it may not place orders, so halting always reaches
    what rests at the exchange; its ``place`` refuses, saying why.
    """
    if mode is TradingMode.DRY:
        return PaperBroker()
    if client is None:
        from markets.connection import kalshi_client

        client = kalshi_client(refresh_limits=True)
    if mode is TradingMode.LIVE:
        problems = live_problems(has_key=client.config.signer is not None)
        if problems:
            refusal = "LIVE trading refused: " + "; ".join(problems) + "."
            if not cancelling or client.config.signer is None:
                raise BrokerUnavailable(refusal)
            return KalshiBroker(client, mode=mode, refuse_orders=refusal)
        return KalshiBroker(client, mode=mode, order_group=lambda: live_order_group(client))
    return KalshiBroker(client, mode=mode)


__all__ = ["Broker", "BrokerUnavailable", "KalshiBroker", "PaperBroker", "Placement", "broker_for", "live_problems"]
