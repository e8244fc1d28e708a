"""Fills, each beside the decision that placed its order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE, page_of
from kalshiweb.templatetags.money import cents, contracts, dollars, probability
from trading.models import Fill

REASON_CHARS = 90


@dataclass(frozen=True)
class FillRow:
    """One fill's cells, formatted once here with the money filters the templates use.

    Each cell looked up through the fill, its order and the order's decision (a dict, often without the key
    asked for, and each miss costs the template engine an exception and a ``dir()``) made a page of 50 fills
    spend most of its time in Django's template engine.
    """

    at: str  # UTC
    ticker: str
    bought: str  # "10 YES"
    price: str  # of the side bought
    fee: str | None  # None while Kalshi has not said
    taker: str
    sized_on: str  # the P(YES) the decision sized on
    market: str  # the market's P(YES) then
    quote: str  # "38¢ / 42¢" then
    edge: str
    why: str | None  # None: not one of our orders

    @classmethod
    def of(cls, fill: Fill) -> FillRow:
        order = fill.order
        decision = order.decision if order is not None else {}
        return cls(
            at=fill.created_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            ticker=fill.ticker,
            bought=f"{contracts(fill.count)} {fill.buys.upper()}",
            price=cents(fill.own_price),
            fee=dollars(fill.fee) if fill.fee_known else None,
            taker="taker" if fill.is_taker else "maker",
            sized_on=probability(decision.get("probability")),
            market=probability(decision.get("market_probability")),
            quote=f"{cents(decision.get('yes_bid'))} / {cents(decision.get('yes_ask'))}",
            edge=cents(decision.get("expected_value")),
            why=f"{order.strategy}: {Truncator(order.reason).chars(REASON_CHARS)}" if order is not None else None,
        )


@staff_member_required
@never_cache
def fills(request: HttpRequest) -> HttpResponse:
    """The mode's fills, newest first and paged, each beside the decision that placed its order (what we
    believed then)."""
    rows = Fill.objects.filter(mode=settings.TRADING_MODE).select_related("order").order_by("-created_time", "-id")
    page = page_of(rows, request.GET.get("page"), PER_PAGE)
    return render(request, "dashboard/fills.html", {"page": page, "rows": [FillRow.of(fill) for fill in page.entries]})
