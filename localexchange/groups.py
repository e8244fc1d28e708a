"""Order groups (V2): a member's circuit breaker over some of its orders.

A group counts the contracts its orders match (as taker or maker) over a
rolling 15-second window; when that count reaches the group's limit the
exchange cancels every resting order of the group and refuses new orders in
it until the group is reset. Triggering by hand does the same.

Pure: no Django, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from localexchange.matching import ZERO

WINDOW = timedelta(seconds=15)


@dataclass
class OrderGroup:
    group_id: str
    member: str
    limit: Decimal | None
    triggered: bool = False
    order_ids: list[str] = field(default_factory=list)  # every order placed in the group, oldest first
    _matched: deque[tuple[datetime, Decimal]] = field(default_factory=deque)

    def matched(self, count: Decimal, at: datetime) -> None:
        self._matched.append((at, count))

    def matched_within(self, at: datetime) -> Decimal:
        """Contracts matched in the 15 seconds up to ``at``."""
        while self._matched and self._matched[0][0] <= at - WINDOW:
            self._matched.popleft()
        return sum((count for _, count in self._matched), ZERO)

    def over_limit(self, at: datetime) -> bool:
        return self.limit is not None and self.matched_within(at) >= self.limit

    def reset(self) -> None:
        """Take orders again, with the matched count back at zero."""
        self.triggered = False
        self._matched.clear()
