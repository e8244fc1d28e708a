from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import httpx
import pytest

from weather.climate_report import (
    ClimateReportError,
    TemperatureReading,
    best_report,
    fetch_climate_reports,
    parse_climate_report,
)
from weather.sources.base import SourceError, WrongLocationError

FIXTURES = Path(__file__).parent / "fixtures"


def text(name):
    return (FIXTURES / name).read_text()


def test_it_parses_a_final_report():
    report = parse_climate_report(text("cli_nyc_final.txt"))
    assert (report.cli_code, report.office, report.station_name) == ("NYC", "KOKX", "CENTRAL PARK NY")
    assert report.climate_date == date(2025, 2, 28)
    assert (report.high_f, report.low_f) == (52, 34)
    assert report.issued_at == datetime(2025, 3, 1, 5, 36, tzinfo=UTC)
    assert not report.is_preliminary and not report.is_correction and report.valid_as_of is None
    assert report.maximum == TemperatureReading(
        observed=52, time_lst=time(14, 46), record=71, record_year=1976, normal=45, departure=7, last_year=38
    )
    assert report.minimum == TemperatureReading(
        observed=34, time_lst=time(6, 59), record=3, record_year=1934, normal=31, departure=3, last_year=27
    )


def test_it_flags_a_preliminary_report():
    report = parse_climate_report(text("cli_nyc_preliminary.txt"))
    assert report.is_preliminary
    assert report.valid_as_of == time(16, 0)
    assert report.climate_date == date(2025, 7, 4)
    assert report.issued_at == datetime(2025, 7, 4, 20, 56, tzinfo=UTC)  # 456 PM EDT
    assert (report.high_f, report.low_f) == (87, 72)
    assert report.maximum.record_year == 1949  # the tied year on the next line is not a column


@pytest.mark.parametrize(
    ("issued", "preliminary"),
    [
        ("1230 AM EDT SAT JUL 5 2025", True),  # 23:30 EST: the 4th's climate day has not ended
        ("130 AM EDT SAT JUL 5 2025", False),  # 00:30 EST on the 5th
    ],
)
def test_a_report_issued_before_its_climate_day_ended_is_preliminary(issued, preliminary):
    final_style = (
        text("cli_nyc_preliminary.txt")
        .replace("456 PM EDT FRI JUL 4 2025", issued)
        .replace("VALID TODAY AS OF 0400 PM LOCAL TIME.\n", "")
        .replace(" TODAY\n", " YESTERDAY\n")
    )
    report = parse_climate_report(final_style)
    assert report.valid_as_of is None
    assert report.is_preliminary is preliminary


def test_a_correction_is_flagged_and_wins():
    final = parse_climate_report(text("cli_nyc_final.txt"))
    corrected = parse_climate_report(text("cli_nyc_corrected.txt"))
    assert corrected.is_correction and not corrected.is_preliminary
    assert corrected.issued_at == datetime(2025, 3, 1, 10, 14, tzinfo=UTC)
    best = best_report([corrected, final])
    assert best is not None and best.high_f == 53
    assert best_report([final, corrected]) is corrected


def test_a_correction_found_only_in_the_wmo_header_or_headline_counts():
    original = text("cli_nyc_final.txt")
    assert parse_climate_report(original.replace("KOKX 010536", "KOKX 010536 CCB")).is_correction
    assert parse_climate_report(original.replace("FEBRUARY 28 2025...", "FEBRUARY 28 2025 CORRECTION...")).is_correction
    assert not parse_climate_report(original.replace("KOKX 010536", "KOKX 010536 RRA")).is_correction


def test_a_final_report_beats_a_later_preliminary_and_same_day_reports_only():
    prelim = parse_climate_report(text("cli_nyc_preliminary.txt"))
    late_prelim = parse_climate_report(
        text("cli_nyc_preliminary.txt").replace("456 PM EDT FRI JUL 4 2025", "1159 PM EDT FRI JUL 4 2025")
    )
    final = parse_climate_report(
        text("cli_nyc_preliminary.txt")
        .replace("456 PM EDT FRI JUL 4 2025", "130 AM EDT SAT JUL 5 2025")
        .replace("VALID TODAY AS OF 0400 PM LOCAL TIME.\n", "")
    )
    assert best_report([final, late_prelim, prelim]) is final
    assert best_report([prelim, late_prelim]) is late_prelim
    assert best_report([]) is None
    with pytest.raises(ValueError, match="one station and one climate day"):
        best_report([prelim, parse_climate_report(text("cli_nyc_final.txt"))])


def test_missing_values_are_none():
    report = parse_climate_report(text("cli_mdw_missing.txt"))
    assert (report.cli_code, report.station_name, report.climate_date) == ("MDW", "CHICAGO-MIDWAY", date(2025, 1, 14))
    assert (report.high_f, report.low_f) == (21, None)
    assert report.minimum == TemperatureReading(
        observed=None, time_lst=None, record=-17, record_year=1979, normal=18, departure=None, last_year=22
    )
    # A blank record year leaves no token: the right-hand columns still line up.
    assert report.maximum == TemperatureReading(
        observed=21, time_lst=time(13, 47), record=58, record_year=None, normal=32, departure=-11, last_year=35
    )
    assert report.issued_at == datetime(2025, 1, 15, 6, 31, tzinfo=UTC)


def test_a_record_flag_and_colon_times_are_read():
    report = parse_climate_report(text("cli_lax_record.txt"))
    assert report.high_f == 97 and report.maximum.record_set
    assert report.maximum.time_lst == time(12, 41)
    assert report.minimum.time_lst == time(5, 58)
    assert report.station_name == "LOS ANGELES INTL AIRPORT CA"
    assert report.issued_at == datetime(2026, 9, 13, 1, 50, tzinfo=UTC)  # 650 PM PDT
    assert report.is_preliminary and report.valid_as_of == time(17, 0)


def test_it_reads_whitespace_and_case_variants():
    canonical = parse_climate_report(text("cli_nyc_final.txt"))
    mangled = (
        text("cli_nyc_final.txt")
        .replace("\n", "\r\n")
        .replace("  MAXIMUM         52    246 PM", "\tmaximum\t52  246 pm ")
        .replace("...THE CENTRAL PARK NY CLIMATE SUMMARY FOR", "...The Central Park NY   Climate Summary For\r\n")
        .replace("1236 AM EST SAT MAR 1 2025", "1236 AM EST Sat Mar  1 2025   ")
    )
    assert parse_climate_report(mangled) == canonical


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("1236 AM EST SAT MAR 1 2025", datetime(2025, 3, 1, 5, 36, tzinfo=UTC)),
        ("1236 AM CST SAT MAR 1 2025", datetime(2025, 3, 1, 6, 36, tzinfo=UTC)),
        ("1236 AM MST SAT MAR 1 2025", datetime(2025, 3, 1, 7, 36, tzinfo=UTC)),
        ("1236 AM PST SAT MAR 1 2025", datetime(2025, 3, 1, 8, 36, tzinfo=UTC)),
        ("1236 AM HST SAT MAR 1 2025", datetime(2025, 3, 1, 10, 36, tzinfo=UTC)),
        ("1200 PM EST SAT MAR 1 2025", datetime(2025, 3, 1, 17, 0, tzinfo=UTC)),
        ("1159 PM EST SAT MAR 1 2025", datetime(2025, 3, 2, 4, 59, tzinfo=UTC)),
    ],
)
def test_the_header_time_uses_its_time_zone(stamp, utc):
    report = parse_climate_report(text("cli_nyc_final.txt").replace("1236 AM EST SAT MAR 1 2025", stamp))
    assert report.issued_at == utc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  MAXIMUM         52    246 PM", "  MAXIMUM         5X    246 PM"),
            r"CLINYC: unreadable value '5X' at line 23: 'MAXIMUM         5X    246 PM  71    1976  45      7       38'",
        ),
        (
            ("  MAXIMUM         52    246 PM", "  MAXIMUM         52    2O6 PM"),
            r"CLINYC: unreadable observation time at line 23: 'MAXIMUM         52    2O6 PM",
        ),
        (
            ("  MAXIMUM         52    246 PM", "  MAXIMUM        520    246 PM"),
            r"CLINYC: observed value 520\.0 °F is outside the plausible -80\.\.135 °F at line 23",
        ),
        (
            ("1236 AM EST SAT MAR 1 2025", "1236 AM XST SAT MAR 1 2025"),
            r"CLINYC: unknown time zone 'XST' in the issue time at line 7: '1236 AM XST SAT MAR 1 2025'",
        ),
        (
            ("FEBRUARY 28 2025...", "FEBRUARY 30 2025..."),
            r"CLINYC: impossible date in the headline at line 11: '...THE CENTRAL PARK NY CLIMATE SUMMARY FOR",
        ),
        (
            ("FEBRUARY 28 2025...", "MARCH 28 2025..."),
            r"CLINYC: the report was issued before its climate day began at line 11",
        ),
        (("TEMPERATURE (F)", "TEMPERATURES"), r"CLINYC: no 'TEMPERATURE \(F\)' block"),
        (
            ("  MINIMUM         34", "  LOWEST          34"),
            r"CLINYC: no MINIMUM line in the TEMPERATURE \(F\) block at line 21",
        ),
        (("CLINYC\n", "CLIMATE\n"), r"CLI: expected the AWIPS id \(CLIxxx\) after the WMO header at line 3: 'CLIMATE'"),
        (("CDUS41 KOKX 010536", "CDUS41"), r"CLI: no WMO header line like 'CDUS41 KOKX 010536'"),
    ],
    ids=[
        "bad-value",
        "bad-time",
        "absurd",
        "time-zone",
        "date",
        "future-day",
        "no-block",
        "no-minimum",
        "no-awips",
        "no-wmo",
    ],
)
def test_an_unparseable_report_names_the_line(change, message):
    broken = text("cli_nyc_final.txt").replace(*change)
    with pytest.raises(ClimateReportError, match=message):
        parse_climate_report(broken)


def test_a_climate_report_error_is_a_source_error():
    assert issubclass(ClimateReportError, SourceError)


class FakeProducts:
    def __init__(self, texts):
        self.listing = json.loads((FIXTURES / "nws_products_cli_nyc.json").read_text())
        self.texts = dict(zip((item["id"] for item in self.listing["@graph"]), texts, strict=False))
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        if request.url.path == "/products/types/CLI/locations/NYC":
            return httpx.Response(200, json=self.listing)
        product_id = request.url.path.rsplit("/", 1)[-1]
        if product_id in self.texts:
            item = next(i for i in self.listing["@graph"] if i["id"] == product_id)
            return httpx.Response(200, json=item | {"productText": self.texts[product_id]})
        return httpx.Response(404, json={"title": "Not Found", "status": 404})

    def fetch(self, **kwargs):
        transport = httpx.MockTransport(self)
        return fetch_climate_reports(
            "NYC", app_name="kalshiweb", contact="ops@example.com", transport=transport, **kwargs
        )


def test_it_fetches_the_latest_products_newest_first():
    fake = FakeProducts([text("cli_nyc_corrected.txt"), text("cli_nyc_final.txt")])
    reports = fake.fetch(limit=2)
    assert [r.high_f for r in reports] == [53, 52]
    best = best_report(reports)
    assert best is not None and best.is_correction
    assert [r.url.path for r in fake.requests] == [
        "/products/types/CLI/locations/NYC",
        "/products/7e1d0a52-3c55-4d51-9a4f-0c2f6f1b2a01",
        "/products/2b9c4f3e-8a61-4e0f-b3c2-5d7e9f1a0b02",
    ]
    assert {r.headers["User-Agent"] for r in fake.requests} == {"(kalshiweb, ops@example.com)"}


def test_a_product_for_another_station_is_refused():
    fake = FakeProducts([text("cli_mdw_missing.txt")])
    with pytest.raises(WrongLocationError, match="the product is CLIMDW, asked for CLINYC"):
        fake.fetch(limit=1)


def test_an_unparseable_product_names_the_product_and_the_line():
    fake = FakeProducts([text("cli_nyc_final.txt").replace("  MAXIMUM         52", "  MAXIMUM         ??")])
    with pytest.raises(ClimateReportError, match=r"product 7e1d0a52-3c55-4d51-9a4f-0c2f6f1b2a01: CLINYC: .* line 23"):
        fake.fetch(limit=1)


def test_cli_codes_are_checked_before_any_request():
    with pytest.raises(ValueError, match="three capital letters"):
        fetch_climate_reports("NYC/../x", app_name="kalshiweb", contact="ops@example.com")
