from __future__ import annotations

from datetime import date

import pytest

from markets.tickers import TickerError, event_date, event_ticker_of


@pytest.mark.parametrize(
    ("market", "event"),
    [
        ("KXHIGHNY-25FEB28-B44.5", "KXHIGHNY-25FEB28"),
        ("KXHIGHNY-26AUG02-T80", "KXHIGHNY-26AUG02"),
        ("HIGHNY-24AUG16-T84", "HIGHNY-24AUG16"),
        ("HIGHMIA--23MAY11-B86.5", "HIGHMIA--23MAY11"),
        ("HIGHCHI-22DEC23-B-0.5", "HIGHCHI-22DEC23"),  # a negative strike carries its own dash
        ("HIGHCHI-22DEC23-T-3", "HIGHCHI-22DEC23"),
    ],
)
def test_it_finds_the_event_of_a_market(market, event):
    assert event_ticker_of(market) == event


@pytest.mark.parametrize(
    ("event", "day"),
    [
        ("KXHIGHNY-25FEB28", date(2025, 2, 28)),
        ("HIGHMIA--23MAY11", date(2023, 5, 11)),
        ("HIGHNY-24AUG16", date(2024, 8, 16)),
    ],
)
def test_it_reads_the_climate_day(event, day):
    assert event_date(event) == day


@pytest.mark.parametrize("bad", ["KXHIGHNY", "KXHIGHNY-B44.5", "KXHIGHNY-25XYZ28-B1", "-25FEB28"])
def test_it_rejects_malformed_market_tickers(bad):
    with pytest.raises(TickerError):
        event_date(event_ticker_of(bad))


def test_it_rejects_impossible_dates():
    with pytest.raises(TickerError, match="impossible date"):
        event_date("KXHIGHNY-25FEB30")
