from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markets.units import (
    UnitError,
    cents,
    count_of,
    decimal_text,
    dollars,
    epoch_seconds,
    optional_timestamp,
    price_of,
    timestamp,
)


def test_fixed_point_and_legacy_prices_agree():
    assert price_of({"yes_bid_dollars": "0.4200"}, "yes_bid") == Decimal("0.42")
    assert price_of({"yes_bid": 42}, "yes_bid") == Decimal("0.42")
    assert price_of({"yes_bid_dollars": "0.4200", "yes_bid": 42}, "yes_bid") == Decimal("0.42")
    assert price_of({"yes_bid_dollars": "0.0015"}, "yes_bid") == Decimal("0.0015")  # deci-cent ticks
    assert price_of({}, "yes_bid") is None
    assert price_of({"yes_bid": None, "yes_bid_dollars": None}, "yes_bid") is None


def test_disagreeing_fields_are_an_error():
    with pytest.raises(
        UnitError, match=re.escape("market.yes_bid: yes_bid_dollars='0.4300' disagrees with yes_bid=42")
    ):
        price_of({"yes_bid_dollars": "0.4300", "yes_bid": 42}, "yes_bid", where="market")


@pytest.mark.parametrize("bad", [0.42, "42c", "", True, None, "1e-2"])
def test_a_price_must_be_a_fixed_point_string(bad):
    with pytest.raises(UnitError, match="price"):
        dollars(bad, field="price")


@pytest.mark.parametrize("bad", [0.5, "42", True])
def test_legacy_cents_must_be_integers(bad):
    with pytest.raises(UnitError):
        cents(bad, field="yes_price")


def test_counts_come_from_fp_strings_or_legacy_integers():
    assert count_of({"volume_fp": "10.50"}, "volume") == Decimal("10.50")
    assert count_of({"volume": 7}, "volume") == Decimal(7)
    assert count_of({"volume_fp": "3.00", "volume": 3}, "volume") == Decimal(3)
    assert count_of({}, "volume") is None
    with pytest.raises(UnitError, match=r"trade\.count"):
        count_of({"count": 2.5}, "count", where="trade")


@given(st.integers(min_value=0, max_value=100))
def test_cents_are_exact(n):
    assert cents(n, field="p") == Decimal(n) / 100
    assert dollars(f"{n / 100:.4f}", field="p") == Decimal(n) / 100


def test_timestamps_with_any_fraction_become_aware_utc():
    assert timestamp("2024-08-15T14:16:59.4937Z", field="t") == datetime(2024, 8, 15, 14, 16, 59, 493700, tzinfo=UTC)
    assert timestamp("2024-08-15T14:16:59Z", field="t").tzinfo is UTC
    assert timestamp("2024-08-15T10:16:59-04:00", field="t") == datetime(2024, 8, 15, 14, 16, 59, tzinfo=UTC)
    assert optional_timestamp("", field="t") is None
    assert epoch_seconds(1703123456, field="ts") == datetime(2023, 12, 21, 1, 50, 56, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2024-08-15 14:16:59", "yesterday", 1703123456, ""])
def test_timestamps_need_a_zone_and_a_format(bad):
    with pytest.raises(UnitError, match="created_time"):
        timestamp(bad, field="created_time")


def test_decimal_text_reads_strikes_and_settlement_values():
    assert decimal_text(84, field="cap_strike") == Decimal(84)
    assert decimal_text(44.5, field="x") == Decimal("44.5")
    assert decimal_text("50.00", field="expiration_value") == Decimal("50.00")
    for bad in ["NaN", "84 (CLI not final)", True, None]:
        with pytest.raises(UnitError):
            decimal_text(bad, field="expiration_value")
