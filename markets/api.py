"""Markets API: each bracket with its latest stored book's best bid and ask."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
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


_BOOK_FIELDS = BookSerializer().fields  # built once: a serializer a market copied its fields for every row


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
        book: OrderBookSnapshot | None = getattr(market, "latest_book", None)
        if book is None:
            return None
        captured_at, yes_bids, no_bids = book.captured_at, book.yes_bids or [], book.no_bids or []
        # A page holds a hundred books: each written with BookSerializer's own fields, as a plain dict, rather than
        # through a BookSerializer a market (the schema still describes it).
        return {
            "captured_at": _BOOK_FIELDS["captured_at"].to_representation(captured_at),
            "best_yes_bid": _BOOK_FIELDS["best_yes_bid"].to_representation(yes_bids[0][0]) if yes_bids else None,
            "best_yes_ask": (
                _BOOK_FIELDS["best_yes_ask"].to_representation(ONE - Decimal(no_bids[0][0])) if no_bids else None
            ),
        }


def attach_latest_books(markets: Sequence[Market], now: datetime) -> None:
    """Give each of these markets its latest book captured by ``now`` (what :meth:`MarketSerializer.get_book` reads),
    in one query, through the (market, captured_at) index.

    Only for the markets shown: read for the list's queryset, the books of every market the filters match (a
    year lists tens of thousands) were looked up before the page was cut.
    """
    newest = OrderBookSnapshot.objects.newest_per_market([m.pk for m in markets], now)
    found = {book.market_id: book for book in newest.only("market_id", "captured_at", "yes_bids", "no_bids")}
    for market in markets:
        market.latest_book = found.get(market.pk)  # type: ignore[attr-defined]


# Only the columns the list shows: a market has 32, eight of them times (each decoded in Python on PostgreSQL).
# "event" is among them: its foreign key.
_SHOWN_COLUMNS = tuple(
    name for name in MarketSerializer.Meta.fields if name in {field.name for field in Market._meta.concrete_fields}
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
        return (
            Market.objects.select_related("event__series")
            .only(*_SHOWN_COLUMNS, "event__event_ticker", "event__target_date", "event__series__city")
            .order_by("-event_id", "floor_strike", "ticker")
        )

    def paginate_queryset(self, queryset: Any) -> Any:  # the stubs' generic rows: here always markets
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_latest_books(page, timezone.now())
        return page

    def get_object(self) -> Market:
        market = super().get_object()
        attach_latest_books([market], timezone.now())
        return market
