"""The decision log: what each trading cycle decided about each market and why, filterable and paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE, page_of
from dashboard.widgets import PlainSelect
from kalshiweb.templatetags.money import cents, contracts, probability
from markets.models import Event, Market
from trading.limits import Rule
from trading.models import DecisionLogEntry
from weather.models import City

REASON_CHARS = 140
FEW_MARKETS = 100  # the market filter reads up to this many markets' decisions by their tickers
LATELY = timedelta(days=1)  # ... and walks the log for more if one was decided this long before the newest entry


class DecisionLogFilter(django_filters.FilterSet):
    """The page's filters, all in the query string (so a filtered view is a link)."""

    city = django_filters.ModelChoiceFilter(
        queryset=City.objects.order_by("name"), method="by_city", label="City", widget=PlainSelect
    )
    since = django_filters.DateFilter(method="from_day", label="From (UTC day)")
    until = django_filters.DateFilter(method="to_day", label="To (UTC day)")
    ticker = django_filters.CharFilter(method="by_market", label="Market")
    verdict = django_filters.ChoiceFilter(choices=DecisionLogEntry.Verdict.choices, widget=PlainSelect)
    side = django_filters.ChoiceFilter(choices=[("yes", "YES"), ("no", "NO")], widget=PlainSelect)
    rule = django_filters.ChoiceFilter(
        choices=[(r.value, r.value) for r in Rule], method="by_rule", label="Risk rule", widget=PlainSelect
    )
    cycle = django_filters.NumberFilter(field_name="cycle_id", label="Cycle")

    class Meta:
        model = DecisionLogEntry
        fields: list[str] = []

    # Bounds on ``at`` itself, not ``at__date``: a function of the column cannot use the (mode, at) index,
    # and on a year of cycles the day filters scanned millions of rows (34 s).
    def from_day(self, rows: QuerySet[DecisionLogEntry], name: str, day: date) -> QuerySet[DecisionLogEntry]:
        return rows.filter(at__gte=_utc_midnight(day))

    def to_day(self, rows: QuerySet[DecisionLogEntry], name: str, day: date) -> QuerySet[DecisionLogEntry]:
        return rows.filter(at__lt=_utc_midnight(day + timedelta(days=1)))

    def by_city(self, rows: QuerySet[DecisionLogEntry], name: str, city: City) -> QuerySet[DecisionLogEntry]:
        # The log keeps the event's ticker, not a key: the city's events are one subquery. Walking the log newest
        # first to find them costs the whole log for a city with no decisions, and everything since for one
        # no longer traded, so its newest decision (one index read per event) says where to start, or that
        # there is nothing to find.
        ours = rows.filter(event_ticker__in=Event.objects.filter(series__city=city).values("event_ticker"))
        newest = ours.aggregate(at=Max("at"))["at"]
        return rows.none() if newest is None else ours.filter(at__lte=newest)

    def by_market(self, rows: QuerySet[DecisionLogEntry], name: str, text: str) -> QuerySet[DecisionLogEntry]:
        # Any part of a ticker, in any case, which no index finds in the log: walking it newest first for a
        # part that matches nothing, or only old markets, read the whole log (1 s on a year's, on each key the
        # page searches as one types). So the markets are searched first (a row a market, not one a market a
        # cycle): none, nothing to find; a few, their decisions through the log's ticker index; many, a walk.
        markets = Market.objects.filter(ticker__icontains=text)
        found = list(markets.values_list("ticker", flat=True)[: FEW_MARKETS + 1])
        if not found:
            return rows.none()
        return _of_few_markets(rows, found) if len(found) <= FEW_MARKETS else _of_many_markets(rows, text, markets)

    def by_rule(self, rows: QuerySet[DecisionLogEntry], name: str, rule: str) -> QuerySet[DecisionLogEntry]:
        # rules is a JSON list of rule names; the quoted name matches one element, not a prefix of another.
        # A pass never has one: naming the other verdicts lets the (mode, verdict, at) index skip the passes,
        # nearly all of the log, instead of reading every row's rules.
        fired = [v for v in DecisionLogEntry.Verdict if v != DecisionLogEntry.Verdict.PASSED]
        return rows.filter(verdict__in=fired, rules__icontains=f'"{rule}"')


def _of_few_markets(rows: QuerySet[DecisionLogEntry], tickers: list[str]) -> QuerySet[DecisionLogEntry]:
    """Their decisions, in the stretch of the log between their first and last (found by the ticker index).

    Without the stretch, SQLite (which has no statistics here) reads the page by the (mode, at) index from the
    newest entry on. The stretch is read per ticker: ungrouped, PostgreSQL reads MIN and MAX off that same index
    from either end of the log.
    """
    spans = DecisionLogEntry.objects.filter(ticker__in=tickers).values("ticker").order_by()
    bounds = [(span["first"], span["last"]) for span in spans.annotate(first=Min("at"), last=Max("at"))]
    if not bounds:
        return rows.none()
    start, end = min(first for first, _ in bounds), max(last for _, last in bounds)
    return rows.filter(ticker__in=tickers, at__range=(start, end))


def _of_many_markets(
    rows: QuerySet[DecisionLogEntry], text: str, markets: QuerySet[Market]
) -> QuerySet[DecisionLogEntry]:
    """Walking the log newest first meets common markets soon if one was decided lately; if none was, the walk
    starts at the newest decision about their events (as DecisionLogFilter.by_city's does)."""
    matching = rows.filter(ticker__icontains=text)
    newest_of_all = rows.aggregate(at=Max("at"))["at"]
    if newest_of_all is None or matching.filter(at__gt=newest_of_all - LATELY).exists():
        return matching
    newest = rows.filter(event_ticker__in=markets.values("event__event_ticker")).aggregate(at=Max("at"))["at"]
    return rows.none() if newest is None else matching.filter(at__lte=newest)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class DecisionRow:
    """One decision's cells, formatted once here with the money filters the templates use (as the fills page's
    are): looked up and filtered in the template, a page of 50 spent most of its time in the template engine."""

    at: str  # UTC
    ticker: str
    cycle_id: int
    strategy: str
    model: str
    market: str
    quote: str  # "38¢ / 42¢"
    buys: str  # "YES @ 42¢", or a dash
    edge: str
    size: str
    verdict: str
    tone: str
    rules: tuple[str, ...]
    reason: str

    @classmethod
    def of(cls, entry: DecisionLogEntry) -> DecisionRow:
        return cls(
            at=entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            ticker=entry.ticker,
            cycle_id=entry.cycle_id,
            strategy=entry.strategy,
            model=probability(entry.probability),
            market=probability(entry.market_probability),
            quote=f"{cents(entry.yes_bid)} / {cents(entry.yes_ask)}",
            buys=f"{entry.side.upper()} @ {cents(entry.price)}" if entry.side else "—",
            edge=cents(entry.edge) if entry.edge is not None else "—",
            size=contracts(entry.size) if entry.size is not None else "—",
            verdict=entry.get_verdict_display(),
            tone=entry.tone,
            rules=tuple(entry.rules or ()),
            reason=Truncator(entry.reason).chars(REASON_CHARS),
        )


@staff_member_required
@never_cache
def decisions(request: HttpRequest) -> HttpResponse:
    """The configured mode's decision log, newest first; an htmx request (a filter changed) gets the table alone."""
    entries = DecisionLogEntry.objects.filter(mode=settings.TRADING_MODE).order_by("-at", "ticker", "-id")
    found = DecisionLogFilter(request.GET, queryset=entries)
    query = request.GET.copy()
    query.pop("page", None)
    page = page_of(found.qs, request.GET.get("page"), PER_PAGE)
    context = {
        "filter": found,
        "page": page,
        "rows": [DecisionRow.of(entry) for entry in page.entries],
        "query": query.urlencode(),
        "per_page": PER_PAGE,
    }
    template = "dashboard/decisions_results.html" if request.headers.get("HX-Request") else "dashboard/decisions.html"
    return render(request, template, context)
