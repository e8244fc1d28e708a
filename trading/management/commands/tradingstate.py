"""``manage.py tradingstate [show|halt|resume|reduce-only] --reason TEXT``: the kill switch from a shell."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from trading.models import TradingState
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

    def handle(self, *args: Any, action: str, reason: str, **options: Any) -> None:
        if action != "show":
            try:
                set_trading_state(
                    state=_ACTIONS[action], reason=reason, actor=f"cli:{getpass.getuser()}", now=timezone.now()
                )
            except TradingStateError as exc:
                raise CommandError(str(exc)) from None
        state = TradingState.load()
        self.stdout.write(f"{state.get_state_display()}: {state.reason}")
