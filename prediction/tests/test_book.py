"""Order-book features: pure arithmetic, their point-in-time lookup, and where the model reads them."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from markets.brackets import Bracket
from markets.models import Event, OrderBookSnapshot
from prediction.book import BOOK_FEATURE_NAMES, Quote, best_quote, book_features, bracket_centre
from prediction.cases import DecisionTime
from prediction.dataset import build_cases, training_pairs
from prediction.features import CityKnowledge, features_at
from prediction.tests.world import build_world, local
from prediction.weather_model import correction_names, correction_row

D = Decimal
LADDER = [Bracket(None, 39), Bracket(40, 41), Bracket(42, None)]


def test_the_best_quote_reads_a_yes_ask_off_the_no_bids():
    quote = best_quote([(D("0.40"), D(10)), (D("0.42"), D(5))], [(D("0.55"), D(20)), (D("0.50"), D(1))])
    assert quote == Quote(bid=D("0.42"), bid_size=D(5), ask=D("0.45"), ask_size=D(20))
    assert best_quote([], [(D("0.55"), D(20))]) is None


def test_the_weighted_mid_leans_toward_the_thin_side():
    quote = Quote(bid=D("0.40"), bid_size=D(30), ask=D("0.50"), ask_size=D(10))
    assert quote.weighted_mid == pytest.approx(0.475)  # heavy bids: the next trade is likelier up
    assert quote.imbalance == pytest.approx(0.5)


def test_event_features_need_every_bracket_quoted():
    quotes = [
        (LADDER[0], Quote(D("0.10"), D(10), D("0.12"), D(10))),
        (LADDER[1], Quote(D("0.60"), D(10), D("0.64"), D(10))),
        (LADDER[2], Quote(D("0.26"), D(10), D("0.30"), D(10))),
    ]
    features = book_features(quotes)
    assert features is not None
    centres = [bracket_centre(b) for b in LADDER]
    assert centres == [38.5, 40.5, 42.5]
    expected = (0.11 * 38.5 + 0.62 * 40.5 + 0.28 * 42.5) / (0.11 + 0.62 + 0.28)
    assert features.implied_high_f == pytest.approx(expected)
    assert features.spread == pytest.approx((0.02 + 0.04 + 0.04) / 3)
    assert book_features([*quotes[:2], (LADDER[2], None)]) is None


@pytest.mark.django_db
def test_cases_and_training_days_carry_the_book_as_of_the_decision():
    world = build_world(first_day=date(2025, 2, 1), first_event=date(2025, 2, 20), last_day=date(2025, 2, 21))
    event = Event.objects.get(target_date=date(2025, 2, 21))
    decided = local(date(2025, 2, 21), time(10))
    for market in event.markets.all():
        for minutes, bid in ((-30, "0.20"), (5, "0.90")):  # one before the decision, one after
            OrderBookSnapshot.objects.create(
                market=market,
                captured_at=decided + timedelta(minutes=minutes),
                source="ws",
                yes_bids=[[bid, "10.00"]],
                no_bids=[["0.70", "10.00"]],
            )
    ten = DecisionTime(time(10))
    day = date(2025, 2, 21)
    [case] = build_cases(series=world.series, start=day, end=day, decision=ten, micro=True).cases
    assert case.book is not None and case.book.spread == pytest.approx(0.10)  # 0.30 ask - 0.20 bid
    [plain] = build_cases(series=world.series, start=date(2025, 2, 21), end=date(2025, 2, 21), decision=ten).cases
    assert plain.book is None
    pairs = training_pairs(
        city=world.city, decision=ten, start=date(2025, 2, 20), end=date(2025, 2, 21), series=world.series, micro=True
    )
    assert [p.book is not None for p in pairs] == [False, True]  # no book was recorded on the 20th

    features = features_at(
        day=case.target_date, when=case.decided_at, forecasts=case.forecasts,
        knowledge=CityKnowledge(case.history), book=case.book,
    )  # fmt: skip
    names = correction_names(["x"], micro=True)
    row = correction_row(features, 40.0, ["x"], micro=True)
    assert names[-3:] == list(BOOK_FEATURE_NAMES) and len(row) == len(names)
    assert row[-1] == pytest.approx(0.10)
    assert len(correction_row(features, 40.0, ["x"])) == len(correction_names(["x"]))
