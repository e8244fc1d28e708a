"""Cases hold only what was known at the decision time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from markets.brackets import Bracket
from markets.models import Market, Series
from markets.tests.factories import EventFactory, MarketFactory, TradeFactory
from prediction.cases import DecisionTime
from prediction.dataset import build_cases, city_history, live_cases, training_pairs
from weather.models import City, ForecastSnapshot, Observation, RunningExtreme

pytestmark = pytest.mark.django_db

DAY = date(2025, 2, 28)
TEN = DecisionTime(time(10))  # 10:00 EST = 15:00 UTC on 28 Feb
T = datetime(2025, 2, 28, 15, tzinfo=UTC)


@pytest.fixture
def nyc():
    city = City.objects.get(name="New York")
    series = Series.objects.create(ticker="KXHIGHNY", city=city, measure="high")
    event = EventFactory.create(series=series, event_ticker="KXHIGHNY-25FEB28", target_date=DAY)
    ladder = [("T44", "less", None, 44, "no"), ("B44.5", "between", 44, 45, "yes"), ("T45", "greater", 45, None, "no")]
    markets = {
        suffix: MarketFactory.create(
            event=event,
            ticker=f"KXHIGHNY-25FEB28-{suffix}",
            strike_type=kind,
            floor_strike=Decimal(lo) if lo is not None else None,
            cap_strike=Decimal(hi) if hi is not None else None,
            result=result,
            expiration_value="45.00",
        )
        for suffix, kind, lo, hi, result in ladder
    }
    return city, series, markets


def cases(series, decision=TEN):
    return build_cases(series=series, start=DAY, end=DAY, decision=decision)


def test_brackets_are_ordered_low_to_high_and_the_outcome_is_kept_apart(nyc):
    _, series, _ = nyc
    [case] = cases(series).cases
    assert case.brackets == [Bracket(None, 43), Bracket(44, 45), Bracket(46, None)]
    assert case.decided_at == T
    assert (case.outcome.winner, case.outcome.high_f) == ("KXHIGHNY-25FEB28-B44.5", 45.0)


def test_the_market_price_is_the_last_trade_at_or_before_the_decision(nyc):
    _, series, markets = nyc
    TradeFactory(
        market=markets["B44.5"],
        yes_price=Decimal("0.40"),
        no_price=Decimal("0.60"),
        created_time=T - timedelta(hours=2),
    )
    TradeFactory(market=markets["B44.5"], yes_price=Decimal("0.55"), no_price=Decimal("0.45"), created_time=T)
    TradeFactory(
        market=markets["B44.5"],
        yes_price=Decimal("0.90"),
        no_price=Decimal("0.10"),
        created_time=T + timedelta(seconds=1),
    )
    [case] = cases(series).cases
    prices = {m.ticker.rsplit("-", 1)[1]: m.last_price for m in case.markets}
    assert prices == {"T44": None, "B44.5": Decimal("0.55"), "T45": None}


def test_forecasts_available_after_the_decision_are_invisible(nyc):
    city, series, _ = nyc
    for hours, high in [(-30, 41.0), (-3, 44.0), (1, 49.0)]:
        ForecastSnapshot.objects.create(
            city=city,
            source="open-meteo",
            model="archive",
            target_date=DAY,
            available_at=T + timedelta(hours=hours),
            high_f=high,
        )
    [case] = cases(series).cases
    [forecast] = case.forecasts
    assert (forecast.high_f, forecast.lead_days) == (44.0, 0)
    [evening] = cases(series, DecisionTime(time(18), day_before=True)).cases
    assert [(f.high_f, f.lead_days) for f in evening.forecasts] == [(41.0, 1)]


def test_a_days_high_is_known_from_the_next_mornings_climate_report(nyc):
    city, series, _ = nyc
    for offset, high in [(3, 40.0), (2, 41.0), (1, 42.0), (0, 45.0)]:
        Observation.objects.create(city=city, date=DAY - timedelta(days=offset), source="ghcnd", high_f=high)
    [case] = cases(series).cases
    assert [h.day for h in case.history] == [DAY - timedelta(days=3), DAY - timedelta(days=2), DAY - timedelta(days=1)]
    [evening] = cases(series, DecisionTime(time(18), day_before=True)).cases
    assert [h.high_f for h in evening.history] == [40.0, 41.0]  # the day before's high is not out yet


def test_the_running_max_is_the_latest_recorded_by_the_decision(nyc):
    city, series, _ = nyc
    for minutes, value in [(-60, 41.0), (-5, 43.0), (30, 46.0)]:
        moment = T + timedelta(minutes=minutes)
        RunningExtreme.objects.create(city=city, date=DAY, observed_at=moment, recorded_at=moment, max_f=value)
    [case] = cases(series).cases
    assert case.running_max_f == 43.0


def running_extreme(city, day, *, recorded_at, observed_at=None, max_f):
    observed_at = recorded_at if observed_at is None else observed_at
    RunningExtreme.objects.create(city=city, date=day, observed_at=observed_at, recorded_at=recorded_at, max_f=max_f)


def test_a_running_max_recorded_at_the_decision_counts_and_a_tie_goes_to_the_latest_observation(nyc):
    city, series, _ = nyc
    running_extreme(city, DAY, recorded_at=T - timedelta(hours=1), max_f=41.0)
    running_extreme(city, DAY, recorded_at=T, observed_at=T - timedelta(minutes=2), max_f=44.0)
    running_extreme(city, DAY, recorded_at=T, observed_at=T - timedelta(minutes=20), max_f=42.0)
    [case] = cases(series).cases
    assert case.running_max_f == 44.0


def test_the_running_max_is_none_before_any_row_of_the_day_or_when_the_latest_has_no_value(nyc):
    city, series, _ = nyc
    running_extreme(city, DAY - timedelta(days=1), recorded_at=T - timedelta(hours=2), max_f=50.0)  # another day
    running_extreme(city, DAY, recorded_at=T + timedelta(seconds=1), max_f=46.0)  # after the decision
    [case] = cases(series).cases
    assert case.running_max_f is None
    running_extreme(city, DAY, recorded_at=T - timedelta(hours=1), max_f=41.0)
    running_extreme(city, DAY, recorded_at=T - timedelta(minutes=1), max_f=None)
    [case] = cases(series).cases
    assert case.running_max_f is None  # the latest row stands, even without a value


def test_every_cases_running_max_comes_from_one_query(nyc, django_assert_num_queries):
    city, series, _ = nyc
    later = EventFactory.create(series=series, event_ticker="KXHIGHNY-25MAR01", target_date=DAY + timedelta(days=1))
    MarketFactory.create(event=later, ticker="KXHIGHNY-25MAR01-T44", strike_type="less", cap_strike=Decimal(44))
    running_extreme(city, DAY, recorded_at=T - timedelta(hours=1), max_f=41.0)
    running_extreme(city, DAY + timedelta(days=1), recorded_at=T + timedelta(days=1, hours=-1), max_f=38.0)
    running_extreme(city, DAY + timedelta(days=1), recorded_at=T + timedelta(days=1, hours=1), max_f=39.0)
    history = city_history(city, series=series, end=DAY + timedelta(days=1))
    with django_assert_num_queries(6):  # events, markets, last prints (one per event), forecasts, running extremes
        report = build_cases(series=series, start=DAY, end=DAY + timedelta(days=1), decision=TEN, history=history)
    assert [c.running_max_f for c in report.cases] == [41.0, 38.0]


def test_a_history_passed_in_gives_the_same_cases_and_pairs(nyc):
    city, series, _ = nyc
    for offset, high in [(3, 40.0), (2, 41.0), (1, 42.0), (0, 45.0)]:
        Observation.objects.create(city=city, date=DAY - timedelta(days=offset), source="ghcnd", high_f=high)
    history = city_history(city, series=series, end=DAY)
    assert cases(series).cases == build_cases(series=series, start=DAY, end=DAY, decision=TEN, history=history).cases
    window = {"city": city, "decision": TEN, "start": DAY - timedelta(days=3), "end": DAY, "series": series}
    assert training_pairs(**window) == training_pairs(**window, history=history)


def test_live_cases_carry_their_events_with_markets_loaded(nyc, django_assert_num_queries):
    _, series, markets = nyc
    report = live_cases(series=series, now=T - timedelta(days=1))
    [case] = report.cases
    with django_assert_num_queries(0):
        event = report.events[case.event_ticker]
        assert sorted(m.ticker for m in event.markets.all()) == sorted(m.ticker for m in markets.values())


def test_an_event_without_a_readable_bracket_is_skipped_with_the_reason(nyc):
    _, series, markets = nyc
    markets["T45"].strike_type = ""
    markets["T45"].subtitle = markets["T45"].yes_sub_title = "warm"
    markets["T45"].save()
    report = cases(series)
    assert report.cases == []
    assert "KXHIGHNY-25FEB28: cannot read a temperature bracket from subtitle 'warm'" in report.skipped


def test_an_event_without_exactly_one_winner_has_no_outcome(nyc):
    _, series, markets = nyc
    markets["B44.5"].result = ""
    markets["B44.5"].save()
    [case] = cases(series).cases
    assert case.outcome is None


def test_training_pairs_cover_days_without_markets_and_respect_the_clock():
    from prediction.dataset import training_pairs

    city = City.objects.get(name="New York")
    for offset in range(3):
        day = date(2024, 1, 10) + timedelta(days=offset)
        Observation.objects.create(city=city, date=day, source="ghcnd", high_f=30.0 + offset)
        decided = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)  # 10:00 EST
        ForecastSnapshot.objects.create(
            city=city,
            source="open-meteo",
            model="archive",
            target_date=day,
            available_at=decided - timedelta(hours=1),
            high_f=31.0 + offset,
        )
        ForecastSnapshot.objects.create(
            city=city,
            source="open-meteo",
            model="archive",
            target_date=day,
            available_at=decided + timedelta(hours=1),
            high_f=99.0,
        )
    pairs = training_pairs(city=city, decision=TEN, start=date(2024, 1, 1), end=date(2024, 1, 31))
    assert [(p.day.day, p.forecasts[0].high_f, p.observed_high_f) for p in pairs] == [
        (10, 31.0, 30.0),
        (11, 32.0, 31.0),
        (12, 33.0, 32.0),
    ]
    assert pairs[0].known_from == datetime(2024, 1, 11, 14, tzinfo=UTC)  # 09:00 EST the next day


def test_the_ladder_centre_is_known_once_the_event_is_listed(nyc):
    _, series, markets = nyc
    [unlisted] = cases(series).cases
    assert unlisted.ladder_centre_f is None  # no open time: when it was listed is unknown
    for market in markets.values():
        market.open_time = datetime(2025, 2, 27, 15, tzinfo=UTC)  # 10:00 EST the day before
        market.save()
    [case] = cases(series).cases
    assert case.ladder_centre_f == 44.5  # the one bounded bracket {44, 45}: edges 43.5 and 45.5
    [early] = cases(series, DecisionTime(time(9), day_before=True)).cases
    assert early.ladder_centre_f is None


def test_markets_without_strikes_or_subtitles_are_read_from_their_tickers(nyc):
    _, series, markets = nyc
    for market in markets.values():
        market.strike_type, market.floor_strike, market.cap_strike = "", None, None
        market.save()
    [case] = cases(series).cases
    assert case.brackets == [Bracket(None, 43), Bracket(44, 45), Bracket(46, None)]


def test_training_pairs_carry_the_days_ladder_when_it_was_listed_by_then(nyc):
    city, series, markets = nyc
    for market in markets.values():
        market.open_time = datetime(2025, 2, 27, 15, tzinfo=UTC)
        market.save()
    Observation.objects.create(city=city, date=DAY, source="ghcnd", high_f=45.0)
    Observation.objects.create(city=city, date=DAY - timedelta(days=1), source="ghcnd", high_f=41.0)
    pairs = training_pairs(
        city=city, decision=TEN, start=DAY - timedelta(days=1), end=DAY, series=series, require_forecasts=False
    )
    assert [(p.day, p.ladder_centre_f, p.observed_high_f) for p in pairs] == [
        (DAY - timedelta(days=1), None, 41.0),
        (DAY, 44.5, 45.0),
    ]


def test_replayed_open_events_are_those_with_a_market_open_then_by_its_schedule(nyc):
    _, series, _ = nyc
    listed, closes = T - timedelta(days=1), T + timedelta(hours=12)
    Market.objects.update(open_time=listed, close_time=closes, status=Market.Status.FINALIZED)

    def open_at(moment):
        return [case.event_ticker for case in live_cases(series=series, now=moment, replay=True).cases]

    assert open_at(T) == ["KXHIGHNY-25FEB28"]
    assert live_cases(series=series, now=T).cases == []  # by the status stored today it is long closed
    assert open_at(listed - timedelta(seconds=1)) == []  # not listed yet
    assert open_at(closes) == []
    Market.objects.update(settled_at=T - timedelta(minutes=1))
    assert open_at(T) == []  # settled early
