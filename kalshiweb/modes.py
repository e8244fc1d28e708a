"""The trading modes and Kalshi environments, shared by settings and every app.

Plain enums with no Django imports, so settings can parse them and the pure
core can take them as arguments.
"""

from __future__ import annotations

from enum import StrEnum


class TradingMode(StrEnum):
    """How far an order may travel.

    DRY reads real public data and never sends a mutating request; DEMO trades on
    Kalshi's demo exchange; LIVE trades real money and must be armed explicitly.
    """

    DRY = "DRY"
    DEMO = "DEMO"
    LIVE = "LIVE"


class KalshiEnvironment(StrEnum):
    """Which Kalshi exchange the client talks to. Keys only work in their own one."""

    PROD = "PROD"
    DEMO = "DEMO"


def resolve_kalshi_environment(mode: TradingMode, requested: KalshiEnvironment | None) -> KalshiEnvironment:
    """Pick the exchange for a trading mode, refusing contradictory combinations.

    DEMO orders must go to the demo exchange and LIVE orders to production; DRY
    may read either (production by default, for real prices).
    """
    if mode is TradingMode.DEMO:
        if requested is KalshiEnvironment.PROD:
            raise ValueError("TRADING_MODE=DEMO trades on the demo exchange; KALSHI_ENV=PROD contradicts it")
        return KalshiEnvironment.DEMO
    if mode is TradingMode.LIVE:
        if requested is KalshiEnvironment.DEMO:
            raise ValueError("TRADING_MODE=LIVE trades on production; KALSHI_ENV=DEMO contradicts it")
        return KalshiEnvironment.PROD
    return requested or KalshiEnvironment.PROD
