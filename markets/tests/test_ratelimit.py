from __future__ import annotations

import threading

import pytest

from markets import endpoints
from markets.ratelimit import BASIC_TIER, Limits, RateLimiter, RequestClass, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_full_bucket_allows_one_seconds_burst_then_waits():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    assert [bucket.reserve() for _ in range(10)] == [0.0] * 10
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)


def test_tokens_refill_with_time_up_to_capacity():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    for _ in range(10):
        bucket.reserve()
    clock.now += 0.5
    assert [bucket.reserve() for _ in range(5)] == [0.0] * 5
    assert bucket.reserve() > 0
    clock.now += 3600
    assert [bucket.reserve() for _ in range(10)] == [0.0] * 10  # capped at capacity, not 36 000
    assert bucket.reserve() > 0


def test_acquire_sleeps_through_the_injected_sleep():
    clock = FakeClock()
    limiter = RateLimiter(Limits(read_per_second=2, write_per_second=1), clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire(RequestClass.READ) for _ in range(4)]
    assert waits == [0.0, 0.0, pytest.approx(0.5), pytest.approx(0.5)]
    assert clock.slept == [pytest.approx(0.5), pytest.approx(0.5)]


def test_reads_and_writes_have_separate_buckets():
    clock = FakeClock()
    limiter = RateLimiter(BASIC_TIER, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        assert limiter.reserve(RequestClass.READ) == 0.0
    for _ in range(10):
        assert limiter.reserve(RequestClass.WRITE) == 0.0
    assert limiter.reserve(RequestClass.WRITE) == pytest.approx(0.1)
    assert limiter.reserve(RequestClass.READ) == pytest.approx(0.05)


def test_the_default_is_the_basic_tier():
    assert RateLimiter().limits == Limits(read_per_second=20, write_per_second=10)


def test_configure_resizes_both_buckets():
    clock = FakeClock()
    limiter = RateLimiter(BASIC_TIER, clock=clock, sleep=clock.sleep)
    limiter.configure(Limits(read_per_second=100, write_per_second=100))
    clock.now += 1
    assert all(limiter.reserve(RequestClass.WRITE) == 0.0 for _ in range(100))
    assert limiter.reserve(RequestClass.WRITE) == pytest.approx(0.01)


def test_a_batch_cancel_costs_a_fifth_of_a_write_per_order():
    command = endpoints.batch_cancel_orders([f"ord-{n}" for n in range(20)])
    assert command.kind is RequestClass.WRITE
    assert command.cost == pytest.approx(4.0)
    clock = FakeClock()
    limiter = RateLimiter(BASIC_TIER, clock=clock, sleep=clock.sleep)
    assert limiter.reserve(command.kind, command.cost) == 0.0
    assert limiter.reserve(command.kind, command.cost) == 0.0
    assert limiter.reserve(command.kind, command.cost) == pytest.approx(0.2)


def test_only_mutations_count_as_writes():
    assert endpoints.orders().query.kind is RequestClass.READ
    assert endpoints.balance().kind is RequestClass.READ
    assert endpoints.cancel_order("ord-1").kind is RequestClass.WRITE


def test_concurrent_callers_queue_in_order_without_losing_tokens():
    clock = FakeClock()  # frozen: only reservations move the balance
    bucket = TokenBucket(10, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            wait = bucket.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [0.0] * 10 + [n / 10 for n in range(1, 91)]
    assert sorted(waits) == pytest.approx(expected)


@pytest.mark.parametrize("rate", [0, -1])
def test_it_refuses_a_non_positive_rate(rate):
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate)
    with pytest.raises(ValueError, match="positive"):
        Limits(read_per_second=rate, write_per_second=1)
