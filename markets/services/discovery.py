"""Find Kalshi's daily temperature series and check them against our cities' settlement stations.

The discovery rule: a series listed by ``GET /series?category=Climate and
Weather`` is a daily temperature series when its ticker starts with ``KXHIGH``
(daily high) or ``KXLOW`` (daily low) and its ``frequency`` is ``daily``.
Everything else in the category (rain, snow, hourly ladders such as
KXTEMPNYCH, monthly series) is left alone. Per Kalshi's OpenAPI spec (v3.13)
``GET /series`` is not paginated: one answer holds the whole category.

Each kept series names its settlement station in ``settlement_sources``: the
NWS Daily Climate Report (CLI) URL, whose ``issuedby`` is the CLI code (NYC
for Central Park) and ``site`` the issuing office (OKX). A series is matched to
a City by its ticker (``high_series_ticker``/``low_series_ticker``); the CLI
code must then equal the city's ``nws_cli_code``. Only when both agree is an
unverified city marked verified. Nothing is ever activated here (operators do
that in the admin), and disagreements are reported and logged, never fixed: a
Series row stays linked to the city whose ticker it is (as the history importer
links it), and a verified city whose series now names another station keeps
its flags for an operator to judge.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from django.db import transaction

from markets.client_api import ExchangeApi
from markets.history.catalog import RowProblem, check_lengths
from markets.models import Series
from markets.schemas import Series as SeriesData
from weather.models import City

logger = logging.getLogger(__name__)

CATEGORY = "Climate and Weather"
DAILY = "daily"
MEASURE_BY_PREFIX = (("KXHIGH", Series.Measure.HIGH), ("KXLOW", Series.Measure.LOW))
_CODE = re.compile(r"^[A-Z]{3}$")
# api.weather.gov names the product in its path: /products/types/CLI/locations/NYC
_API_PATH = re.compile(r"/products/types/CLI/locations/([A-Za-z]{3})/?$", re.IGNORECASE)


@dataclass(frozen=True)
class CliSource:
    """The NWS Daily Climate Report a series settles on."""

    code: str  # the product's issuedby, e.g. NYC for CLINYC
    office: str  # the issuing forecast office, e.g. OKX; "" when the URL does not say
    url: str


@dataclass(frozen=True)
class MatchedSeries:
    ticker: str
    city: str
    cli_code: str
    verified_now: bool  # True when this run marked the city's station verified


@dataclass(frozen=True)
class MismatchedSeries:
    """A series whose ticker is a city's but whose settlement station is not the city's."""

    ticker: str
    city: str
    series_cli_code: str
    city_cli_code: str
    url: str


@dataclass(frozen=True)
class UnmatchedSeries:
    ticker: str
    cli_code: str  # "" when the series has no readable CLI source either
    same_code_city: str = ""  # a city with this CLI code, as a hint for the operator


@dataclass(frozen=True)
class MissingSeries:
    """A city's configured series that the API did not list as a daily temperature series."""

    city: str
    ticker: str
    city_active: bool


@dataclass
class DiscoveryReport:
    listed: int = 0  # series in the category
    kept: int = 0  # of which daily temperature series
    created: int = 0  # Series rows created
    updated: int = 0
    matched: list[MatchedSeries] = field(default_factory=list)
    mismatched: list[MismatchedSeries] = field(default_factory=list)
    unmatched: list[UnmatchedSeries] = field(default_factory=list)
    without_cli_source: list[tuple[str, str]] = field(default_factory=list)  # (ticker, why)
    missing: list[MissingSeries] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> list[str]:
        """Cities whose station this run verified."""
        return [m.city for m in self.matched if m.verified_now]


def discover_weather_series(*, client: ExchangeApi, now: datetime) -> DiscoveryReport:
    """Upsert the daily temperature series Kalshi lists, verify matching stations, report the rest.

    Never activates a city, never changes a city's configured tickers or CLI code.
    """
    listed = client.list_series(category=CATEGORY)
    report = DiscoveryReport(listed=len(listed))
    kept = [(series, measure) for series in listed if (measure := daily_temperature_measure(series)) is not None]
    report.kept = len(kept)
    cities = _cities_by_ticker()
    with transaction.atomic():
        for series, measure in sorted(kept, key=lambda item: item[0].ticker):
            _discover_one(series, measure, cities.get(series.ticker), report, now=now)
    _report_missing({series.ticker for series, _ in kept}, report)
    return report


def daily_temperature_measure(series: SeriesData) -> str | None:
    """Series.Measure.HIGH/LOW for a daily temperature series (by ticker prefix and frequency), else None."""
    if series.frequency.strip().lower() != DAILY:
        return None
    for prefix, measure in MEASURE_BY_PREFIX:
        if series.ticker.startswith(prefix):
            return measure
    return None


def cli_source_of(url: str) -> CliSource | None:
    """The CLI product a settlement-source URL points at, or None if it is not a CLI URL.

    Understands forecast.weather.gov's ``product.php?site=OKX&product=CLI&issuedby=NYC``
    (``site=NWS`` names no office) and api.weather.gov's ``/products/types/CLI/locations/NYC``.
    """
    parts = urlsplit(url.strip())
    query = {name.lower(): value.strip().upper() for name, value in parse_qsl(parts.query)}
    if query.get("product") == "CLI":
        code, office = query.get("issuedby", ""), query.get("site", "")
    elif match := _API_PATH.search(parts.path):
        code, office = match.group(1).upper(), ""
    else:
        return None
    if not _CODE.match(code):
        return None
    return CliSource(code=code, office=office if _CODE.match(office) and office != "NWS" else "", url=url)


def series_cli_source(series: SeriesData) -> tuple[CliSource | None, str]:
    """(the series' CLI source, "") or (None, why not): no CLI URL, or URLs naming different stations."""
    sources = [s for s in (cli_source_of(item.url) for item in series.settlement_sources) if s is not None]
    codes = sorted({s.code for s in sources})
    if not codes:
        urls = ", ".join(item.url for item in series.settlement_sources if item.url) or "none"
        return None, f"no NWS CLI URL among its settlement sources ({urls})"
    if len(codes) > 1:
        return None, f"its settlement sources name several CLI stations ({', '.join(codes)})"
    return sources[0], ""


def _cities_by_ticker() -> dict[str, City]:
    cities: dict[str, City] = {}
    for city in City.objects.all():
        for ticker in (city.high_series_ticker, city.low_series_ticker):
            if ticker:
                cities[ticker] = city
    return cities


def _discover_one(
    series: SeriesData, measure: str, city: City | None, report: DiscoveryReport, *, now: datetime
) -> None:
    try:
        created = _save_series(series, measure, city, now=now)
    except RowProblem as exc:
        report.notes.append(f"{series.ticker}: not stored: {exc}")
        logger.warning("Series %s not stored: %s", series.ticker, exc)
        return
    if created:
        report.created += 1
    else:
        report.updated += 1
    source, problem = series_cli_source(series)
    if source is None:
        report.without_cli_source.append((series.ticker, problem))
        logger.warning("Series %s: %s; its station is not verified", series.ticker, problem)
    elif city is None:
        hint = City.objects.filter(nws_cli_code=source.code).values_list("name", flat=True).first() or ""
        report.unmatched.append(UnmatchedSeries(series.ticker, source.code, hint))
    elif source.code != city.nws_cli_code:
        _report_mismatch(series.ticker, source, city, report)
    else:
        verified_now = _verify_station(city, source, now=now)
        report.matched.append(MatchedSeries(series.ticker, city.name, source.code, verified_now))
        if source.office and source.office != city.nws_cli_office:
            note = (
                f"{series.ticker}: the CLI is issued by office {source.office}, {city.name} says {city.nws_cli_office}"
            )
            report.notes.append(note)
            logger.warning("%s", note)


def _save_series(series: SeriesData, measure: str, city: City | None, *, now: datetime) -> bool:
    fields = {
        "title": series.title,
        "category": series.category,
        "frequency": series.frequency,
        "tags": list(series.tags),
        "settlement_sources": [{"name": s.name, "url": s.url} for s in series.settlement_sources],
        "contract_url": series.contract_url,
        "fee_type": str(series.fee_type),
        "fee_multiplier": series.fee_multiplier,
        "city": city,
        "measure": measure,
        "synced_at": now,
    }
    check_lengths(Series, fields, key=series.ticker)
    _, created = Series.objects.update_or_create(ticker=series.ticker, defaults=fields)
    return created


def _report_mismatch(ticker: str, source: CliSource, city: City, report: DiscoveryReport) -> None:
    report.mismatched.append(MismatchedSeries(ticker, city.name, source.code, city.nws_cli_code, source.url))
    # A verified (maybe active) city is left as it is: un-verifying it would deactivate it, an operator's call.
    logger.warning(
        "Series %s settles on CLI%s (%s), but %s is configured with CLI%s%s: check the station before trading",
        ticker,
        source.code,
        source.url,
        city.name,
        city.nws_cli_code,
        " and is already marked verified" if city.station_verified else "; not verified",
    )


def _verify_station(city: City, source: CliSource, *, now: datetime) -> bool:
    """Mark the city's station verified from Kalshi's own series data; never activates it."""
    if city.station_verified:
        return False
    limit = getattr(City._meta.get_field("station_source"), "max_length", None) or 255
    city.station_verified = True
    city.station_source = f"Kalshi settlement_sources {source.url}, checked {now.date().isoformat()}"[:limit]
    city.save(update_fields=["station_verified", "station_source", "updated_at"])
    logger.info("Verified the settlement station of %s: CLI%s per %s", city.name, source.code, source.url)
    return True


def _report_missing(kept: set[str], report: DiscoveryReport) -> None:
    for city in City.objects.order_by("name"):
        for ticker in (city.high_series_ticker, city.low_series_ticker):
            if ticker and ticker not in kept:
                report.missing.append(MissingSeries(city.name, ticker, city.is_active))
                if city.is_active:
                    logger.warning("Active city %s: Kalshi lists no daily series %s", city.name, ticker)
