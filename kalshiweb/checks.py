"""System checks run at start-up (``manage.py check``, ``runembedded``, ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_kalshi_key_file(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A configured key file must be a readable, unencrypted RSA private key."""
    from markets.credentials import CredentialError, load_private_key_file

    path = settings.KALSHI_PRIVATE_KEY_PATH
    if not path:
        return []
    try:
        load_private_key_file(path)
    except CredentialError as exc:
        return [
            Error(
                str(exc),
                hint="Point KALSHI_PRIVATE_KEY_PATH at the PEM file Kalshi gave you, or unset it "
                "and KALSHI_API_KEY_ID and store the key in the admin.",
                id="kalshiweb.E001",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_live_trading(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """TRADING_MODE=LIVE says at every start-up what stops it from trading, before anyone wonders why it is idle."""
    if settings.TRADING_MODE != "LIVE":
        return []
    from django.db import DatabaseError

    from markets.connection import configured_signer
    from markets.credentials import CredentialError
    from trading.brokers import live_problems

    try:
        has_key = configured_signer() is not None
        problems = live_problems(has_key=has_key)
    except CredentialError:
        problems = live_problems(has_key=False)
    except DatabaseError:  # before the first migrate: nothing is stored yet, so nothing is confirmed
        unarmed = [] if settings.LIVE_TRADING_ARMED else ["LIVE_TRADING_ARMED is not set"]
        problems = [*unarmed, "the database is not set up yet (run manage.py setup): no key or confirmation stored"]
    if not problems:
        return []
    return [
        Warning(
            "TRADING_MODE=LIVE but LIVE will place no order: " + "; ".join(problems) + ".",
            hint="Set LIVE_TRADING_ARMED=1, store a production key (admin → API credentials) and confirm LIVE "
            "in the admin (Trading state). /health/ reports the same.",
            id="kalshiweb.W001",
        )
    ]


@register(deploy=False)
def check_trading_strategy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The trading cycle's strategy must exist: a typo would otherwise fail every cycle."""
    from trading.strategies import STRATEGIES

    if settings.TRADING_STRATEGY in STRATEGIES:
        return []
    return [
        Error(
            f"TRADING_STRATEGY={settings.TRADING_STRATEGY!r} is not a strategy.",
            hint=f"Use one of {', '.join(STRATEGIES)}.",
            id="kalshiweb.E002",
        )
    ]
