"""Markets API: each bracket with its latest stored book's best bid and ask."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from kalshiweb.filters import IdFilter
from kalshiweb.rest import Dollars
from markets.models import Market, OrderBookSnapshot

ONE = Decimal(1)


class MarketFilter(django_filters.FilterSet):
    event = django_filters.CharFilter(field_name="event__event_ticker", help_text="Event ticker.")
    city = IdFilter(field_name="event__series__city", help_text="City id.")
    target_date = django_filters.DateFilter(field_name="event__target_date")

    class Meta:
        model = Market
        fields = ["event", "status", "city", "target_date"]


class BookSerializer(serializers.Serializer[Any]):
    captured_at = serializers.DateTimeField()
    best_yes_bid = Dollars(allow_null=True)
    best_yes_ask = Dollars(allow_null=True, help_text="1 minus the best NO bid.")


class MarketSerializer(serializers.ModelSerializer[Market]):
    event = serializers.CharField(source="event.event_ticker")
    city = serializers.IntegerField(source="event.series.city_id", allow_null=True)
    target_date = serializers.DateField(source="event.target_date", allow_null=True)
    floor_strike = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    cap_strike = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    yes_bid = Dollars(allow_null=True)
    yes_ask = Dollars(allow_null=True)
    last_price = Dollars(allow_null=True)
    book = serializers.SerializerMethodField()

    class Meta:
        model = Market
        fields = [
            "id",
            "ticker",
            "event",
            "city",
            "target_date",
            "title",
            "yes_sub_title",
            "strike_type",
            "floor_strike",
            "cap_strike",
            "status",
            "close_time",
            "result",
            "yes_bid",
            "yes_ask",
            "last_price",
            "volume",
            "open_interest",
            "book",
        ]

    @extend_schema_field(BookSerializer(allow_null=True))
    def get_book(self, market: Market) -> dict[str, Any] | None:
        captured_at = getattr(market, "book_captured_at", None)
        if captured_at is None:
            return None
        yes_bids, no_bids = market.book_yes_bids or [], market.book_no_bids or []  # type: ignore[attr-defined]
        bid = Decimal(yes_bids[0][0]) if yes_bids else None
        ask = ONE - Decimal(no_bids[0][0]) if no_bids else None
        return dict(BookSerializer({"captured_at": captured_at, "best_yes_bid": bid, "best_yes_ask": ask}).data)


def with_latest_book(markets: QuerySet[Market]) -> QuerySet[Market]:
    """Annotate each market with its latest snapshot's time and levels, in the same query."""
    latest = OrderBookSnapshot.objects.filter(market=OuterRef("pk")).order_by("-captured_at")
    return markets.annotate(
        book_captured_at=Subquery(latest.values("captured_at")[:1]),
        book_yes_bids=Subquery(latest.values("yes_bids")[:1], output_field=JSONField()),
        book_no_bids=Subquery(latest.values("no_bids")[:1], output_field=JSONField()),
    )


def attach_latest_books(markets: Sequence[Market]) -> None:
    """Give each of these markets its latest book (what :meth:`MarketSerializer.get_book` reads), in one query.

    Only for the markets shown: annotating the list's queryset ran the three subqueries for every market
    the filters match (a year lists tens of thousands) before the page was cut.
    """
    books: Any = with_latest_book(Market.objects.filter(pk__in=[m.pk for m in markets]).only("pk"))
    found = {book.pk: (book.book_captured_at, book.book_yes_bids, book.book_no_bids) for book in books}
    for market in markets:
        market.book_captured_at, market.book_yes_bids, market.book_no_bids = found.get(  # type: ignore[attr-defined]
            market.pk, (None, None, None)
        )


class MarketViewSet(viewsets.ReadOnlyModelViewSet[Market]):
    """Markets, filterable by event ticker, status, city and climate day, with their latest book.

    The newest events first (by their id: the order they were listed in), each event's brackets by strike.
    """

    serializer_class = MarketSerializer
    filterset_class = MarketFilter

    def get_queryset(self) -> QuerySet[Market]:
        # The market's own columns: the event id is indexed (the foreign key), so a page reads only its
        # events' markets and sorts them by strike; ordering by the event (its date) sorted every market.
        return Market.objects.select_related("event__series").order_by("-event_id", "floor_strike", "ticker")

    def paginate_queryset(self, queryset: Any) -> Any:  # the stubs' generic rows: here always markets
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_latest_books(page)
        return page

    def get_object(self) -> Market:
        market = super().get_object()
        attach_latest_books([market])
        return market
