from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from markets.models import Event, Series
from markets.services.settlement import check_settlements
from markets.tests.factories import EventFactory, MarketFactory
from markets.units import settled_number
from weather.models import City, Observation

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, tzinfo=UTC)
DAY = date(2025, 2, 28)


@pytest.fixture
def nyc_event() -> Event:
    series = Series.objects.create(ticker="KXHIGHNY", city=City.objects.get(name="New York"), measure="high")
    event = EventFactory.create(series=series, event_ticker="KXHIGHNY-25FEB28", target_date=DAY)
    MarketFactory(event=event, ticker="KXHIGHNY-25FEB28-B44.5", result="yes", expiration_value="45.00")
    MarketFactory(event=event, ticker="KXHIGHNY-25FEB28-T44", result="no", expiration_value="45.00")
    MarketFactory(event=event, ticker="KXHIGHNY-25FEB28-T47", result="no", expiration_value="")
    return event


def observe(value: float, source: str = "cli") -> None:
    Observation.objects.create(city=City.objects.get(name="New York"), date=DAY, source=source, high_f=value)


def test_agreement_is_recorded_on_the_event(nyc_event):
    observe(45)
    report = check_settlements(now=NOW)
    nyc_event.refresh_from_db()
    assert (nyc_event.observed_high_f, nyc_event.observed_high_source, nyc_event.settled_high_f) == (
        Decimal(45),
        "cli",
        Decimal(45),
    )
    assert (report.checked, report.agree, report.disagree) == (1, 1, [])
    assert not nyc_event.settlement_disagrees
    assert nyc_event.settlement_checked_at == NOW


def test_a_difference_is_recorded_and_listed(nyc_event, capsys):
    observe(44, source="ghcnd")
    call_command("checksettlements")
    nyc_event.refresh_from_db()
    assert nyc_event.settlement_disagrees
    out = capsys.readouterr().out
    assert "1 events checked: 0 agree, 1 differ (100.0% of 1 comparable)" in out
    assert "KXHIGHNY-25FEB28: observed 44.0 (ghcnd), Kalshi settled on 45.00" in out


def test_unsettled_and_unobserved_events_are_counted_not_guessed(nyc_event):
    nyc_event.markets.update(result="", expiration_value="")
    report = check_settlements(now=NOW)
    assert (report.unsettled, report.unobserved, report.agree) == (1, 1, 0)
    nyc_event.refresh_from_db()
    assert (nyc_event.observed_high_f, nyc_event.settled_high_f) == (None, None)


def test_markets_that_settled_on_different_values_are_reported(nyc_event):
    observe(45)
    nyc_event.markets.filter(ticker__endswith="T44").update(expiration_value="46.00")
    report = check_settlements(now=NOW)
    assert report.conflicting and "KXHIGHNY-25FEB28" in report.conflicting[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50.00", Decimal("50.00")),
        ("84. Although the Daily Climate Report was not finalized", Decimal(84)),
        ("-3.00", Decimal("-3.00")),
        ("", None),
        ("not settled", None),
    ],
)
def test_settled_number_reads_kalshis_expiration_value(text, value):
    assert settled_number(text) == value


def test_the_task_checks_the_last_two_weeks(nyc_event, monkeypatch):
    from markets.tasks import check_settlements_task

    seen = {}
    monkeypatch.setattr("markets.services.settlement.check_settlements", lambda **kwargs: seen.update(kwargs))
    check_settlements_task.delay()
    assert (seen["now"].date() - seen["start"]).days == 14
