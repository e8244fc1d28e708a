"""System checks run at start-up (``manage.py check``, ``runembedded``, ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


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
