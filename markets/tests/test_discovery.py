"""Series discovery against a fake exchange and the seeded cities (weather migration 0002)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from markets.models import Series
from markets.services.discovery import cli_source_of, discover_weather_series
from markets.tests import kalshi_payloads as payloads
from markets.tests.fake_exchange import FakeExchange, make_client
from markets.tests.kalshi_payloads import cli_url
from weather.models import City

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)


def series(ticker: str, *, code: str | None = None, office: str = "OKX", **overrides: object) -> dict[str, object]:
    sources = [{"name": "National Weather Service", "url": cli_url(code, office)}] if code else []
    return payloads.series(ticker=ticker, settlement_sources=sources, **overrides)


def discover(*listed: dict[str, object]):
    exchange = FakeExchange().on("GET", "/series", {"series": list(listed)})
    with make_client(exchange) as client:
        report = discover_weather_series(client=client, now=NOW)
    return report, exchange


def test_it_asks_for_the_climate_and_weather_category():
    _, exchange = discover()
    assert exchange.params() == {"category": ["Climate and Weather"]}


def test_it_verifies_a_matching_station_but_never_activates_the_city():
    url = cli_url("DCA", "LWX")
    report, _ = discover(series("KXHIGHTDC", code="DCA", office="LWX", title="Highest temperature in DC"))
    city = City.objects.get(name="Washington DC")
    assert (city.station_verified, city.is_active) == (True, False)
    assert city.station_source == f"Kalshi settlement_sources {url}, checked 2026-03-02"
    assert [(m.ticker, m.city, m.cli_code, m.verified_now) for m in report.matched] == [
        ("KXHIGHTDC", "Washington DC", "DCA", True)
    ]
    assert report.verified == ["Washington DC"]
    stored = Series.objects.get(ticker="KXHIGHTDC")
    assert (stored.city, stored.measure, stored.synced_at) == (city, Series.Measure.HIGH, NOW)
    assert stored.title == "Highest temperature in DC"
    assert (stored.category, stored.frequency, stored.tags) == (
        "Climate and Weather",
        "daily",
        ["Weather", "Temperature"],
    )
    assert stored.settlement_sources == [{"name": "National Weather Service", "url": url}]
    assert stored.contract_url == "https://example.org/contract.pdf"


def test_it_stores_the_fee_schedule():
    discover(series("KXLOWTNYC", code="NYC", fee_type="quadratic_with_maker_fees", fee_multiplier="0.5"))
    stored = Series.objects.get(ticker="KXLOWTNYC")
    assert (stored.fee_type, stored.fee_multiplier) == (Series.FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal("0.5"))
    assert stored.measure == Series.Measure.LOW


def test_it_leaves_a_verified_city_alone_and_says_nothing_was_verified_now():
    before = City.objects.get(name="New York")
    report, _ = discover(series("KXHIGHNY", code="NYC"))
    after = City.objects.get(name="New York")
    assert report.matched[0].verified_now is False
    assert report.verified == []
    assert (after.station_source, after.is_active) == (before.station_source, True)


def test_it_reports_a_mismatched_station_and_does_not_verify(caplog):
    with caplog.at_level(logging.WARNING, logger="markets.services.discovery"):
        report, _ = discover(series("KXHIGHTDAL", code="DAL", office="FWD"))
    assert [(m.ticker, m.city, m.series_cli_code, m.city_cli_code) for m in report.mismatched] == [
        ("KXHIGHTDAL", "Dallas", "DAL", "DFW")
    ]
    assert report.matched == []
    assert City.objects.get(name="Dallas").station_verified is False
    assert "KXHIGHTDAL settles on CLIDAL" in caplog.text
    assert "Dallas is configured with CLIDFW; not verified" in caplog.text


def test_a_mismatch_on_a_verified_city_is_reported_but_not_undone(caplog):
    with caplog.at_level(logging.WARNING, logger="markets.services.discovery"):
        report, _ = discover(series("KXHIGHNY", code="LGA"))
    city = City.objects.get(name="New York")
    assert (city.station_verified, city.is_active) == (True, True)
    assert report.mismatched[0].series_cli_code == "LGA"
    assert "already marked verified" in caplog.text


def test_it_reports_a_series_no_city_has_with_a_hint():
    report, _ = discover(series("KXHIGHTXYZ", code="XYZ"), series("KXHIGHTDCA", code="DCA", office="LWX"))
    assert [(u.ticker, u.cli_code, u.same_code_city) for u in report.unmatched] == [
        ("KXHIGHTDCA", "DCA", "Washington DC"),
        ("KXHIGHTXYZ", "XYZ", ""),
    ]
    assert Series.objects.get(ticker="KXHIGHTXYZ").city is None
    assert City.objects.get(name="Washington DC").station_verified is False


def test_a_series_without_a_cli_url_is_reported_not_guessed():
    report, _ = discover(
        payloads.series(ticker="KXHIGHTBOS", settlement_sources=[{"name": "NWS", "url": "https://www.weather.gov/"}])
    )
    assert report.without_cli_source == [
        ("KXHIGHTBOS", "no NWS CLI URL among its settlement sources (https://www.weather.gov/)")
    ]
    assert report.matched == report.mismatched == report.unmatched == []
    assert City.objects.get(name="Boston").station_verified is False
    assert Series.objects.get(ticker="KXHIGHTBOS").city == City.objects.get(name="Boston")


def test_sources_naming_two_stations_are_reported_not_guessed():
    two = [{"name": "a", "url": cli_url("BOS", "BOX")}, {"name": "b", "url": cli_url("ORH", "BOX")}]
    report, _ = discover(payloads.series(ticker="KXHIGHTBOS", settlement_sources=two))
    assert report.without_cli_source == [("KXHIGHTBOS", "its settlement sources name several CLI stations (BOS, ORH)")]
    assert City.objects.get(name="Boston").station_verified is False


def test_it_keeps_only_daily_high_and_low_temperature_series():
    report, _ = discover(
        series("KXHIGHNY", code="NYC"),
        series("KXHIGHNYM", code="NYC", frequency="monthly"),
        series("KXTEMPNYCH", code="NYC", frequency="hourly"),
        series("KXRAINNYC", code="NYC"),
        series("KXLOWTCHI", code="MDW", office="LOT", frequency="Daily"),
    )
    assert (report.listed, report.kept, report.created) == (5, 2, 2)
    assert sorted(Series.objects.values_list("ticker", flat=True)) == ["KXHIGHNY", "KXLOWTCHI"]


def test_it_reports_city_series_the_api_did_not_list():
    report, _ = discover(series("KXHIGHNY", code="NYC"))
    missing = {(m.city, m.ticker, m.city_active) for m in report.missing}
    assert ("New York", "KXLOWTNYC", True) in missing
    assert ("Dallas", "KXHIGHTDAL", False) in missing
    assert ("New York", "KXHIGHNY", True) not in missing
    assert len(report.missing) == 2 * City.objects.count() - 1


def test_a_second_run_updates_in_place():
    discover(series("KXHIGHTDC", code="DCA", office="LWX"))
    report, _ = discover(series("KXHIGHTDC", code="DCA", office="LWX", fee_multiplier="2"))
    assert (report.created, report.updated, report.verified) == (0, 1, [])
    assert Series.objects.get(ticker="KXHIGHTDC").fee_multiplier == Decimal(2)


def test_a_different_issuing_office_is_noted():
    report, _ = discover(series("KXHIGHTDC", code="DCA", office="OKX"))
    assert report.notes == ["KXHIGHTDC: the CLI is issued by office OKX, Washington DC says LWX"]
    assert report.verified == ["Washington DC"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://forecast.weather.gov/product.php?site=OKX&product=CLI&issuedby=NYC", ("NYC", "OKX")),
        ("https://forecast.weather.gov/product.php?site=NWS&issuedby=MDW&product=CLI", ("MDW", "")),
        ("https://forecast.weather.gov/product.php?site=lot&product=cli&issuedby=mdw", ("MDW", "LOT")),
        ("https://api.weather.gov/products/types/CLI/locations/LAX", ("LAX", "")),
    ],
)
def test_it_reads_the_cli_station_from_the_forms_of_url_in_use(url, expected):
    source = cli_source_of(url)
    assert source is not None
    assert (source.code, source.office, source.url) == (*expected, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.weather.gov/",
        "https://forecast.weather.gov/product.php?site=OKX&product=AFD&issuedby=NYC",
        "https://forecast.weather.gov/product.php?site=OKX&product=CLI",
        "https://forecast.weather.gov/product.php?site=OKX&product=CLI&issuedby=KNYC",
        "",
    ],
)
def test_it_refuses_urls_that_name_no_cli_station(url):
    assert cli_source_of(url) is None
