from __future__ import annotations

from django.apps import AppConfig


class LocalExchangeConfig(AppConfig):
    """The local Kalshi-compatible exchange: no models; ``manage.py runexchange`` serves it."""

    name = "localexchange"
    verbose_name = "Local exchange"
