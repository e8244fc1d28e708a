"""A temperature event's bracket ladder, as Kalshi lists one: a lower tail, two-degree brackets, an upper tail."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from markets.models import Event, Market

Rung = tuple[str, int | None, int | None]  # strike type, floor, cap


def rungs(centre: int, brackets: int) -> list[Rung]:
    """``brackets`` rungs around ``centre`` °F: below centre-4, then [f, f+1] from centre-4, then above."""
    floors = [centre - 4 + 2 * i for i in range(brackets - 2)]
    return [("less", None, floors[0]), *[("between", f, f + 1) for f in floors], ("greater", floors[-1] + 1, None)]


def market_ticker(event_ticker: str, rung: Rung) -> str:
    """The market's ticker, e.g. ``KXHIGHNY-26JAN15-B44`` (tails by their strike: ``-L40``, ``-G51``)."""
    kind, floor, cap = rung
    return f"{event_ticker}-{kind[0].upper()}{floor if floor is not None else cap}"


def normal_probabilities(ladder: list[Rung], mean: float, sd: float) -> list[Decimal]:
    """P(high in each bracket) under a normal, for integer highs: [a, b] is (a - 0.5, b + 0.5), below c is < c - 0.5."""

    def below(x: float) -> float:
        return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))

    raw = []
    for kind, floor, cap in ladder:
        if kind == "less":  # below the cap
            share = below(cap - 0.5) if cap is not None else 0.0
        elif kind == "greater":  # above the floor
            share = 1 - below(floor + 0.5) if floor is not None else 0.0
        else:
            share = below(cap + 0.5) - below(floor - 0.5) if cap is not None and floor is not None else 0.0
        raw.append(max(share, 0.001))
    total = sum(raw)
    return [Decimal(f"{p / total:.6f}") for p in raw]


def ladder_markets(event: Event, ladder: list[Rung], **fields: Any) -> list[Market]:
    """Create the event's markets for ``ladder``, lowest first, each with ``fields`` (or a callable of its rung)."""
    return [
        Market.objects.create(
            event=event,
            ticker=market_ticker(event.event_ticker, rung),
            strike_type=kind,
            floor_strike=None if floor is None else Decimal(floor),
            cap_strike=None if cap is None else Decimal(cap),
            status=Market.Status.ACTIVE,
            **{name: value(rung) if callable(value) else value for name, value in fields.items()},
        )
        for rung in ladder
        for kind, floor, cap in [rung]
    ]
