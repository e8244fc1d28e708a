"""The decision log: what each trading cycle decided about each market and why, filterable and paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE, page_of
from dashboard.widgets import PlainSelect
from kalshiweb.templatetags.money import cents, contracts, probability
from markets.models import Event
from trading.limits import Rule
from trading.models import DecisionLogEntry
from weather.models import City

REASON_CHARS = 140


class DecisionLogFilter(django_filters.FilterSet):
    """The page's filters, all in the query string (so a filtered view is a link)."""

    city = django_filters.ModelChoiceFilter(
        queryset=City.objects.order_by("name"), method="by_city", label="City", widget=PlainSelect
    )
    since = django_filters.DateFilter(method="from_day", label="From (UTC day)")
    until = django_filters.DateFilter(method="to_day", label="To (UTC day)")
    ticker = django_filters.CharFilter(lookup_expr="icontains", label="Market")
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

    def by_rule(self, rows: QuerySet[DecisionLogEntry], name: str, rule: str) -> QuerySet[DecisionLogEntry]:
        # rules is a JSON list of rule names; the quoted name matches one element, not a prefix of another.
        # A pass never has one: naming the other verdicts lets the (mode, verdict, at) index skip the passes,
        # nearly all of the log, instead of reading every row's rules.
        fired = [v for v in DecisionLogEntry.Verdict if v != DecisionLogEntry.Verdict.PASSED]
        return rows.filter(verdict__in=fired, rules__icontains=f'"{rule}"')


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
