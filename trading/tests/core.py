"""Snapshots for the decision core's tests, written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from markets.brackets import Bracket
from trading.decisions import EventView, MarketView, Portfolio, Quote, Snapshot
from trading.fees import FeeSchedule
from trading.limits import Limits, TradingStatus

NOW = datetime(2025, 1, 10, 15, tzinfo=UTC)
DAY = date(2025, 1, 10)
FEES = FeeSchedule("quadratic", Decimal(1))
BRACKETS = (Bracket(None, 39), Bracket(40, 41), Bracket(42, 43), Bracket(44, None))


def quote(bid: str | None, ask: str | None, *, age: timedelta = timedelta(minutes=5), **sizes: Decimal) -> Quote:
    seen = NOW - age
    return Quote(
        yes_bid=Decimal(bid) if bid else None,
        yes_ask=Decimal(ask) if ask else None,
        bid_at=seen if bid else None,
        ask_at=seen if ask else None,
        last_price=Decimal(ask or bid or "0.5"),
        **sizes,
    )


def event(
    quotes: list[Quote],
    model: list[float] | None = None,
    market: list[float] | None = None,
    *,
    ticker: str = "KXHIGHNY-25JAN10",
    fees: FeeSchedule = FEES,
) -> EventView:
    markets = tuple(
        MarketView(
            ticker=f"{ticker}-{i}",
            bracket=BRACKETS[i],
            quote=q,
            probability=model[i] if model else None,
            market_probability=market[i] if market else None,
        )
        for i, q in enumerate(quotes)
    )
    return EventView(ticker, "KXHIGHNY", "New York", DAY, fees, markets)


def snapshot(
    *events: EventView,
    cash: str = "1000",
    limits: Limits | None = None,
    status: TradingStatus = TradingStatus.ACTIVE,
    portfolio: Portfolio | None = None,
) -> Snapshot:
    return Snapshot(NOW, events, portfolio or Portfolio(Decimal(cash)), limits or Limits(), status)
