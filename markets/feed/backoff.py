"""Reconnection delays: exponential backoff with full jitter, reset once a connection has held.

Full jitter (a uniform delay between zero and the exponential cap) keeps many
clients that lost the exchange together from reconnecting together. The random
source is injected so tests and replays get the same delays.

Pure: no clock, no sleeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 0.5  # seconds before the first retry, at most
    cap: float = 60.0  # no delay is longer
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={self.base}, cap={self.cap}")

    def next_delay(self) -> float:
        """The delay before the next attempt: uniform in [0, min(cap, base·2^attempts)]."""
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempts, 32))
        self.attempts += 1
        return self.rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempts = 0
