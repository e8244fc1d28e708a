"""Fault rates from the seed, phase after phase: a drill replays the same script of rates for the same seed.

Each phase draws every rate afresh, so one phase storms the REST side while
the next mangles the feed. Hangs are short and the client's read timeout
shorter still: a hung create costs well under a second of the drill's time,
and 429s ask the client to wait longer than it is willing to, so they fail
at once instead of being slept through (both are the point: outcomes unknown
and exchange errors, not waiting).

Pure apart from the exchange's Faults it sets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from localexchange.ws import Faults
from markets.transport import RetryPolicy, Timeouts

HANG_SECONDS = 0.6
TIMEOUTS = Timeouts(connect=2.0, read=0.4, write=2.0, pool=2.0)
# Quick retries of GETs; a 429's Retry-After (one second) is longer than it will wait, so it is raised.
RETRY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, max_retry_after=0.0)


@dataclass(frozen=True)
class Rates:
    """One phase's fault rates: per REST request, per feed frame, frames per connection."""

    rate_limit: float = 0.0
    server_error: float = 0.0
    hang: float = 0.0
    unreadable_seconds: float = 0.0
    gap: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    stale: float = 0.0
    drop_after: int | None = None

    def apply(self, faults: Faults) -> None:
        faults.rate_limit_rate, faults.server_error_rate = self.rate_limit, self.server_error
        faults.hang_rate, faults.hang_seconds = self.hang, HANG_SECONDS
        faults.unreadable_seconds = self.unreadable_seconds
        faults.gap_rate, faults.duplicate_rate, faults.reorder_rate = self.gap, self.duplicate, self.reorder
        faults.stale_rate, faults.drop_after = self.stale, self.drop_after


CALM = Rates()


class Schedule:
    """The rates of each phase, drawn from the seed."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"faultdrill-schedule-{seed}")  # noqa: S311 - a replayable script, not a secret
        self.phases = 0

    def next(self) -> Rates:
        rng = self._rng
        self.phases += 1
        return Rates(
            rate_limit=rng.uniform(0.02, 0.25),
            server_error=rng.uniform(0.02, 0.2),
            hang=rng.uniform(0.0, 0.08),
            unreadable_seconds=rng.choice((0.0, 0.0, 0.2, 0.5)),
            gap=rng.uniform(0.0, 0.04),
            duplicate=rng.uniform(0.0, 0.15),
            reorder=rng.uniform(0.0, 0.15),
            stale=rng.uniform(0.0, 0.04),
            drop_after=rng.choice((None, 150, 400, 1000)),
        )
