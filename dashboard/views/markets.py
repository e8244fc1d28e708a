"""Today's markets: the model against the book, from the same snapshot and decision log the trading cycle uses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache

from dashboard.views.market_charts import price_charts
from kalshiweb.paging import page_number
from kalshiweb.templatetags.money import cents, contracts, probability
from trading.decisions import EventView, MarketView
from trading.models import DecisionLogEntry
from trading.snapshot import (
    StoredBooks,
    event_views,
    latest_predictions,
    open_events,
    open_index,
    probabilities_of,
)

REASON_CHARS = 90
# Five cities' events a page (30 brackets and 5 charts). A 20-city day on one page was 120 rows and 20 charts: long
# to scan, and 51 ms to serve in one process on the benchmark's year (70 kB); a page of five took 29 ms (24 kB).
EVENTS_PER_PAGE = 5


@dataclass(frozen=True)
class BracketRow:
    """One bracket's cells, formatted once here with the same filters the templates use.

    Looked up in the template through the market, its quote and the decision, and filtered there, the cells of a
    day's 120 rows cost Django's template engine 24 ms; as plain strings, 13 ms (before the page was paged).
    """

    ticker: str
    label: str
    model: str  # the model's P(YES)
    market: str  # the book's P(YES)
    bid: str
    ask: str
    edge: str  # after fees, per contract; a dash before any decision
    size: str  # "10 YES", or a dash
    verdict: str  # of the latest cycle that logged it, in this mode; empty when not decided yet
    tone: str
    reason: str

    @classmethod
    def of(cls, market: MarketView, decision: DecisionLogEntry | None) -> BracketRow:
        quote = market.quote
        return cls(
            ticker=market.ticker,
            label=market.bracket.label(),
            model=probability(market.probability),
            market=probability(market.market_probability),
            bid=cents(quote.yes_bid),
            ask=cents(quote.yes_ask),
            edge=cents(decision.edge) if decision is not None else "—",
            size=f"{contracts(decision.size)} {decision.side.upper()}" if decision and decision.size else "—",
            verdict=decision.get_verdict_display() if decision is not None else "",
            tone=decision.tone if decision is not None else "",
            reason=Truncator(decision.reason).chars(REASON_CHARS) if decision is not None else "",
        )


@dataclass(frozen=True)
class EventPanel:
    view: EventView
    rows: tuple[BracketRow, ...]
    running_max_f: float | None
    sources: tuple[str, ...]
    predicted_at: datetime | None


@dataclass(frozen=True)
class CityLink:
    city: str
    event_ticker: str
    page: int  # the page that shows its event


@staff_member_required
@never_cache
def markets_today(request: HttpRequest) -> HttpResponse:
    """Each open event per city: the model's probability against the market's prices, and the last verdict.

    One climate day at a time, EVENTS_PER_PAGE cities a page, with every city of the day linked at the top.
    """
    now = timezone.now()
    by_day = open_index(now)
    days = list(by_day)
    day = _day_asked(request.GET.get("day"), days)
    index = by_day[day] if day is not None else []
    pages = max(math.ceil(len(index) / EVENTS_PER_PAGE), 1)
    page = _page_asked(request.GET.get("page"), pages)
    shown = [ticker for _, ticker in index[(page - 1) * EVENTS_PER_PAGE : page * EVENTS_PER_PAGE]]
    events = open_events(now, day=day, tickers=shown) if shown else []
    model, newest = latest_predictions(events, now)
    views = event_views(events, now, StoredBooks(), probabilities_of(newest), str(model or ""))
    latest = _latest_decisions([m.ticker for v in views for m in v.markets])
    ticker_of = {event.pk: event.event_ticker for event in events}
    predictions = {ticker_of[prediction.event_id]: prediction for prediction in newest}
    panels = [
        EventPanel(
            view=view,
            rows=tuple(BracketRow.of(m, latest.get(m.ticker)) for m in view.markets),
            running_max_f=predictions[view.event_ticker].running_max_f if view.event_ticker in predictions else None,
            sources=tuple(sorted(predictions[view.event_ticker].inputs)) if view.event_ticker in predictions else (),
            predicted_at=predictions[view.event_ticker].as_of if view.event_ticker in predictions else None,
        )
        for view in sorted(views, key=lambda v: (v.city, v.target_date))
    ]
    context = {
        "panels": panels,
        "model": model,
        "now": now,
        "charts": price_charts(views, mode=settings.TRADING_MODE, now=now),
        "days": days,
        "day": day,
        "cities": [CityLink(city, ticker, i // EVENTS_PER_PAGE + 1) for i, (city, ticker) in enumerate(index)],
        "page": page,
        "pages": pages,
    }
    return render(request, "dashboard/markets.html", context)


def _page_asked(given: str | None, pages: int) -> int:
    """The page asked for (``?page=N``), the first for anything else: a day's cities change as events close."""
    number = page_number(given) or 1
    return number if number <= pages else 1


def _day_asked(given: str | None, days: list[date]) -> date | None:
    """The climate day asked for (``?day=YYYY-MM-DD``) if markets of it are open, else the first open day:
    one day's events at a time (today's, unless tomorrow's are asked for) keeps the page quick to read and to serve.
    """
    try:
        asked = date.fromisoformat(given) if given else None
    except ValueError:
        asked = None
    return asked if asked in days else (days[0] if days else None)


def _latest_decisions(tickers: list[str]) -> dict[str, DecisionLogEntry]:
    """Each market's entry in the configured mode's latest cycle that logged it (bounded: one cycle's rows).

    The latest cycle is read off the log itself, newest first by the (mode, at) index, which stops at the
    first entry for one of the tickers; joining the cycles to the log instead read every entry of every
    ticker (seconds on a year's log). It is a subquery of the one query: no cycle, no rows.
    """
    latest_cycle = (
        DecisionLogEntry.objects.filter(mode=settings.TRADING_MODE, ticker__in=tickers)
        .order_by("-at")
        .values("cycle_id")[:1]
    )
    entries = DecisionLogEntry.objects.filter(cycle_id=Subquery(latest_cycle), ticker__in=tickers).order_by()
    return {entry.ticker: entry for entry in entries}
