"""A temperature event's bracket ladder, as Kalshi lists one: a lower tail, two-degree brackets, an upper tail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markets.models import Event, Market

Rung = tuple[str, int | None, int | None]  # strike type, floor, cap


def rungs(centre: int, brackets: int) -> list[Rung]:
    """``brackets`` rungs around ``centre`` °F: below centre-4, then [f, f+1] from centre-4, then above."""
    floors = [centre - 4 + 2 * i for i in range(brackets - 2)]
    return [("less", None, floors[0]), *[("between", f, f + 1) for f in floors], ("greater", floors[-1] + 1, None)]


def ladder_markets(event: Event, ladder: list[Rung], **fields: Any) -> list[Market]:
    """Create the event's markets for ``ladder``, lowest first, each with ``fields`` (or a callable of its rung)."""
    return [
        Market.objects.create(
            event=event,
            ticker=f"{event.event_ticker}-{kind[0].upper()}{floor if floor is not None else cap}",
            strike_type=kind,
            floor_strike=None if floor is None else Decimal(floor),
            cap_strike=None if cap is None else Decimal(cap),
            status=Market.Status.ACTIVE,
            **{name: value(rung) if callable(value) else value for name, value in fields.items()},
        )
        for rung in ladder
        for kind, floor, cap in [rung]
    ]
