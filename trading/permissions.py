"""Who may switch the trading state: one rule for the admin, the API and the command.

Switching (halt, resume, reduce-only) needs the ``trading.change_tradingstate``
permission (superusers have every permission); reading it needs staff. A
command run from a shell acts for the OS user, whom shell access already
trusts, unless it names an account with ``--user``, which must then hold the
permission like anyone else.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

SWITCH_PERMISSION = "trading.change_tradingstate"


def may_switch(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may change the trading state."""
    has_perm = getattr(user, "has_perm", None)
    return bool(user.is_active and getattr(user, "is_staff", False) and has_perm and has_perm(SWITCH_PERMISSION))


class MaySwitchTradingState(BasePermission):
    """Staff read the state; only those who may switch it (see :func:`may_switch`) change it."""

    message = "Changing the trading state needs the 'Can change trading state' permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user: Any = request.user
        if not (user and user.is_active and user.is_staff):
            return False
        return request.method in SAFE_METHODS or may_switch(user)
