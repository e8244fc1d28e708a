"""Client-side rate limiting: one token bucket for reads and one for writes.

Kalshi limits each account per second by usage tier (``GET /account/limits``
→ ``{usage_tier, read_limit, write_limit}``; Basic is 20 reads and 10 writes
per second). Only order-mutating calls count as writes, and a batch cancel
costs 0.2 per cancelled order. Staying under the limit ourselves is cheaper
than collecting 429s, so every request takes its tokens first and waits when
the bucket is empty.

A bucket lets a caller *reserve* tokens and returns how long to wait before
sending; the balance may go negative, so concurrent callers queue up in the
order they reserved and nobody sleeps while holding the lock. The sync client
sleeps with ``acquire``; the async one awaits the wait from ``reserve``.

Pure module with no Django imports. Tokens are not money: floats are fine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class RequestClass(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Limits:
    """Requests per second allowed for each class."""

    read_per_second: float
    write_per_second: float

    def __post_init__(self) -> None:
        if self.read_per_second <= 0 or self.write_per_second <= 0:
            raise ValueError(f"rate limits must be positive, got {self}")


BASIC_TIER = Limits(read_per_second=20, write_per_second=10)
# Kalshi counts each cancel in a batch cancel as this fraction of a write.
BATCH_CANCEL_COST = 0.2


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity`` (default: one second's worth)."""

    def __init__(self, rate: float, *, capacity: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._rate = rate
        self._capacity = capacity if capacity is not None else rate
        self._tokens = self._capacity
        self._updated = clock()
        self._check()

    def _check(self) -> None:
        if self._rate <= 0 or self._capacity <= 0:
            raise ValueError(f"a token bucket needs a positive rate and capacity, got {self._rate}/{self._capacity}")

    @property
    def rate(self) -> float:
        return self._rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def reserve(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens now and return the seconds to wait before using them (0 if available)."""
        if cost < 0:
            raise ValueError(f"a request cannot cost {cost} tokens")
        with self._lock:
            self._refill()
            self._tokens -= cost
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def set_rate(self, rate: float, *, capacity: float | None = None) -> None:
        """Change the rate (e.g. after reading the account's tier), keeping what was used."""
        with self._lock:
            self._refill()
            self._rate = rate
            self._capacity = capacity if capacity is not None else rate
            self._tokens = min(self._tokens, self._capacity)
            self._check()


class RateLimiter:
    """A read bucket and a write bucket, sized from the account's limits."""

    def __init__(
        self,
        limits: Limits = BASIC_TIER,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self._limits = limits
        self._buckets = {
            RequestClass.READ: TokenBucket(limits.read_per_second, clock=clock),
            RequestClass.WRITE: TokenBucket(limits.write_per_second, clock=clock),
        }

    @property
    def limits(self) -> Limits:
        return self._limits

    def configure(self, limits: Limits) -> None:
        """Resize both buckets, e.g. from ``GET /account/limits``."""
        self._buckets[RequestClass.READ].set_rate(limits.read_per_second)
        self._buckets[RequestClass.WRITE].set_rate(limits.write_per_second)
        self._limits = limits

    def reserve(self, kind: RequestClass, cost: float = 1.0) -> float:
        """Take the tokens and return how long to wait before sending (for async callers)."""
        return self._buckets[kind].reserve(cost)

    def acquire(self, kind: RequestClass, cost: float = 1.0) -> float:
        """Take the tokens, sleeping until they are available; returns the seconds slept."""
        wait = self.reserve(kind, cost)
        if wait > 0:
            self._sleep(wait)
        return wait
