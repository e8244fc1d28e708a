from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.fees import FeeError, FeeSchedule, OrderFees

NOW = datetime(2025, 2, 1, 15, tzinfo=UTC)
WEATHER = FeeSchedule("quadratic", Decimal(1))


@pytest.mark.parametrize(
    ("count", "price", "fee"),
    [(1, "0.50", "0.02"), (100, "0.50", "1.75"), (20, "0.60", "0.34"), (10, "0.05", "0.04"), (1, "0.01", "0.01")],
)
def test_taker_fee_matches_kalshis_golden_values(count, price, fee):
    assert WEATHER.fee(Decimal(count), Decimal(price), taker=True, at=NOW) == Decimal(fee)


def test_makers_pay_nothing_on_weather_series_but_pay_on_maker_fee_series():
    assert WEATHER.fee(Decimal(100), Decimal("0.50"), taker=False, at=NOW) == 0
    maker_fees = FeeSchedule("quadratic_with_maker_fees", Decimal(1))
    assert maker_fees.fee(Decimal(100), Decimal("0.50"), taker=False, at=NOW) == Decimal("0.44")  # 0.4375 up


def test_the_multiplier_scales_the_rate():
    half = FeeSchedule("quadratic", Decimal("0.5"))
    assert half.fee(Decimal(100), Decimal("0.50"), taker=True, at=NOW) == Decimal("0.88")  # 0.875 up


def test_an_event_override_replaces_the_series_schedule():
    plain = FeeSchedule.effective(series_type="quadratic", series_multiplier=Decimal(1))
    overridden = FeeSchedule.effective(
        series_type="quadratic", series_multiplier=Decimal(1), event_type="flat", event_multiplier=Decimal(2)
    )
    assert plain == FeeSchedule("quadratic", Decimal(1))
    assert overridden == FeeSchedule("flat", Decimal(2))


def test_a_waiver_makes_trades_free_until_it_expires():
    waived = FeeSchedule("quadratic", Decimal(1), waived_until=NOW + timedelta(hours=1))
    assert waived.fee(Decimal(100), Decimal("0.50"), taker=True, at=NOW) == 0
    assert waived.fee(Decimal(100), Decimal("0.50"), taker=True, at=NOW + timedelta(hours=1)) == Decimal("1.75")


@pytest.mark.parametrize("fee_type", ["flat", "quadratic_with_combo_maker_fees", "something_new"])
def test_a_fee_type_without_a_known_formula_refuses_rather_than_guesses(fee_type):
    with pytest.raises(FeeError, match="refusing to trade"):
        FeeSchedule(fee_type, Decimal(1)).fee(Decimal(1), Decimal("0.5"), taker=True, at=NOW)


def test_an_orders_fills_together_pay_the_fee_of_one_order():
    fees = OrderFees(WEATHER)
    charged = [fees.charge(Decimal(1), Decimal("0.50"), taker=True, at=NOW) for _ in range(100)]
    assert sum(charged) == WEATHER.fee(Decimal(100), Decimal("0.50"), taker=True, at=NOW) == Decimal("1.75")
    assert charged[0] == Decimal("0.02") and all(fee >= 0 for fee in charged)


prices = st.integers(min_value=1, max_value=99).map(lambda cents: Decimal(cents) / 100)
counts = st.integers(min_value=1, max_value=10_000).map(Decimal)


@given(counts, prices)
def test_the_fee_is_never_negative_and_never_above_the_rate_at_fifty_cents(count, price):
    """The rate per contract peaks at $0.0175 (P = 0.50); the order's fee is that, rounded up to the cent at most."""
    fee = WEATHER.fee(count, price, taker=True, at=NOW)
    assert fee >= 0
    assert WEATHER.per_contract(price, taker=True, at=NOW) <= Decimal("0.0175")
    assert fee <= (Decimal("0.0175") * count).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
    assert fee - WEATHER.raw(count, price, taker=True, at=NOW) < Decimal("0.01")


@given(st.lists(st.tuples(counts, prices), min_size=1, max_size=8))
def test_fills_of_one_order_never_pay_less_than_their_raw_fee_nor_a_cent_more(fills):
    fees = OrderFees(WEATHER)
    total = sum(fees.charge(c, p, taker=True, at=NOW) for c, p in fills)
    raw = sum(WEATHER.raw(c, p, taker=True, at=NOW) for c, p in fills)
    assert raw <= total < raw + Decimal("0.01")
