"""The decision log: what each trading cycle decided about each market and why, filterable and paged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE, page_of
from markets.models import Event
from trading.limits import Rule
from trading.models import DecisionLogEntry
from weather.models import City


class DecisionLogFilter(django_filters.FilterSet):
    """The page's filters, all in the query string (so a filtered view is a link)."""

    city = django_filters.ModelChoiceFilter(queryset=City.objects.order_by("name"), method="by_city", label="City")
    since = django_filters.DateFilter(method="from_day", label="From (UTC day)")
    until = django_filters.DateFilter(method="to_day", label="To (UTC day)")
    ticker = django_filters.CharFilter(lookup_expr="icontains", label="Market")
    verdict = django_filters.ChoiceFilter(choices=DecisionLogEntry.Verdict.choices)
    side = django_filters.ChoiceFilter(choices=[("yes", "YES"), ("no", "NO")])
    rule = django_filters.ChoiceFilter(choices=[(r.value, r.value) for r in Rule], method="by_rule", label="Risk rule")
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


@staff_member_required
@never_cache
def decisions(request: HttpRequest) -> HttpResponse:
    """The configured mode's decision log, newest first; an htmx request (a filter changed) gets the table alone."""
    entries = DecisionLogEntry.objects.filter(mode=settings.TRADING_MODE).order_by("-at", "ticker", "-id")
    found = DecisionLogFilter(request.GET, queryset=entries)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": found,
        "page": page_of(found.qs, request.GET.get("page"), PER_PAGE),
        "query": query.urlencode(),
        "per_page": PER_PAGE,
    }
    template = "dashboard/decisions_results.html" if request.headers.get("HX-Request") else "dashboard/decisions.html"
    return render(request, template, context)
