"""``manage.py tradingstate [show|halt|resume|reduce-only] --reason TEXT``: the kill switch from a shell."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from trading.models import TradingState
from trading.permissions import may_switch
from trading.services import TradingStateError, set_trading_state

_ACTIONS = {
    "halt": TradingState.State.HALTED,
    "resume": TradingState.State.ACTIVE,
    "reduce-only": TradingState.State.REDUCE_ONLY,
}


class Command(BaseCommand):
    help = "Show or switch the trading state (the kill switch)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", *_ACTIONS], nargs="?", default="show")
        parser.add_argument("--reason", default="", help="Required when switching; kept in the audit trail.")
        parser.add_argument(
            "--user", help="Act as this account, which needs the same permission as in the admin and the API."
        )

    def handle(self, *args: Any, action: str, reason: str, user: str | None, **options: Any) -> None:
        if action != "show":
            actor = self._actor(user)
            try:
                set_trading_state(state=_ACTIONS[action], reason=reason, actor=actor, now=timezone.now())
            except TradingStateError as exc:
                raise CommandError(str(exc)) from None
        state = TradingState.load()
        self.stdout.write(f"{state.get_state_display()}: {state.reason}")

    def _actor(self, username: str | None) -> str:
        """The OS user (a shell is trusted), or the named account if it may switch the state."""
        if username is None:
            return f"cli:{getpass.getuser()}"
        account = get_user_model().objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"No account named {username!r}.")
        if not may_switch(account):
            raise CommandError(f"{username} may not change the trading state (needs the same permission as the admin).")
        return username
