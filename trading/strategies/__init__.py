"""The strategies, selectable by name: each a small pure policy over the same snapshot."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from trading.limits import Sizing
from trading.strategies.base import Proposal, Strategy
from trading.strategies.fixed import BracketArb, LongshotNo, LongshotYes
from trading.strategies.model import ModelMaker, ModelTaker

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (ModelTaker, ModelMaker, BracketArb, LongshotNo, LongshotYes)
}
CONTROL = LongshotYes.name  # must lose after fees under any honest fill model


class UnknownStrategy(ValueError):
    pass


def strategy_named(name: str, *, sizing: Sizing | None = None, **params: Any) -> Strategy:
    """A strategy by name, with its parameters (those it does not take are ignored: a grid may set them all)."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise UnknownStrategy(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}") from None
    strategy = cls()
    taken = {f.name for f in fields(strategy)}  # type: ignore[arg-type]
    chosen = {key: value for key, value in params.items() if key in taken}
    if sizing is not None and "sizing" in taken:
        chosen["sizing"] = sizing
    return replace(strategy, **chosen)  # type: ignore[type-var]


__all__ = ["CONTROL", "STRATEGIES", "Proposal", "Strategy", "UnknownStrategy", "strategy_named"]
