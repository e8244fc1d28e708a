from datetime import date, timedelta
from decimal import Decimal

from backtesting.broker import FillRecord
from backtesting.metrics import SettledFill, summarise
from backtesting.tests.worlds import utc
from markets.schemas.enums import Side

DAYS = [date(2025, 1, 1) + timedelta(days=n) for n in range(10)]


def settled(day: int, price: str, payout: int | None, *, count: int = 10, fee: str = "0.10", closing: str = "0.50"):
    fill = FillRecord(
        client_order_id=f"order-{day}-{price}",
        strategy="model-taker",
        series_ticker="KXHIGHNY" if day % 2 else "KXHIGHCHI",
        event_ticker=f"E{day}",
        ticker=f"E{day}-B",
        bought=Side.YES,
        count=Decimal(count),
        price=Decimal(price),
        fee=Decimal(fee),
        taker=True,
        decided_at=utc("2025-01-01T15:00:00") + timedelta(days=day),
        filled_at=utc("2025-01-01T15:05:00") + timedelta(days=day),
        probability=0.6,
        expected_value=Decimal("0.05"),
        reason="",
    )
    return SettledFill(fill, DAYS[day], None if payout is None else Decimal(payout), Decimal(closing), 0.6, 0.5)


def test_pnl_fees_roi_and_win_rate_are_after_fees_per_order():
    fills = [settled(0, "0.40", 1), settled(1, "0.40", 0), settled(2, "0.40", 1)]
    summary = summarise(fills, bankroll=Decimal(1000), days=DAYS)
    assert summary["pnl_dollars"] == 7.70  # 10·(1 - 0.40) - 0.10 = 5.90 twice, one order lost 4.10
    assert summary["fees_dollars"] == 0.30
    assert summary["roi"] == round(7.70 / 12.30, 4)
    assert summary["win_rate"] == round(2 / 3, 4) and summary["n_trades"] == 3
    assert summary["clv_per_contract"] == 0.10  # closed at 0.50, bought at 0.40
    assert summary["expected_pnl_dollars"] == 1.50 and summary["kelly_effectiveness"] == round(7.70 / 1.50, 4)


def test_intervals_resample_days_and_are_repeatable():
    fills = [settled(day, "0.40", day % 3 != 0) for day in range(10)]
    one = summarise(fills, bankroll=Decimal(1000), days=DAYS)
    two = summarise(fills, bankroll=Decimal(1000), days=DAYS)
    assert one["pnl_dollars_ci"] == two["pnl_dollars_ci"]
    low, high = one["pnl_dollars_ci"]
    assert low < one["pnl_dollars"] < high


def test_unsettled_fills_are_counted_but_not_scored():
    summary = summarise([settled(0, "0.40", 1), settled(1, "0.40", None)], bankroll=Decimal(1000), days=DAYS)
    assert summary["n_fills"] == 2 and summary["unsettled_fills"] == 1 and summary["pnl_dollars"] == 5.90


def test_drawdown_sharpe_and_breakdowns():
    fills = [settled(0, "0.40", 1), settled(1, "0.40", 0), settled(2, "0.40", 0), settled(3, "0.40", 1)]
    summary = summarise(fills, bankroll=Decimal(1000), days=DAYS)
    assert summary["max_drawdown"] == 8.20  # two losses of $4.10 in a row after the first win
    assert summary["sharpe"] is not None
    assert set(summary["per_series"]) == {"KXHIGHCHI", "KXHIGHNY"}
    assert summary["per_strategy"]["model-taker"]["per_series"]["KXHIGHNY"]["pnl_dollars"] == 1.80


def test_model_and_market_are_scored_on_the_markets_traded():
    summary = summarise([settled(0, "0.40", 1), settled(1, "0.40", 0)], bankroll=Decimal(1000), days=DAYS)
    assert summary["n_scored_markets"] == 2
    assert summary["brier_model"] == round(((0.6 - 1) ** 2 + 0.6**2) / 2, 5)
    assert summary["brier_market"] == 0.25
