"""The markets page's price charts: each bracket's traded YES price over the last day, with our fills on it.

Two queries for the whole page whatever the number of events: the prints of
its markets and the mode's fills in them. Prints are thinned to the last one
in each bucket, so a busy market draws a readable line and a small payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from markets.models import Trade
from trading.decisions import EventView
from trading.models import Fill

WINDOW = timedelta(hours=24)
BUCKET = timedelta(minutes=5)
CENTS = Decimal(100)


def price_charts(views: Sequence[EventView], *, mode: str, now: datetime) -> dict[str, dict[str, Any]]:
    """Per event ticker, Chart.js datasets: one line per bracket (YES price in cents against minutes
    before ``now``) and one scatter of the mode's fills at their YES-book prices."""
    since = now - WINDOW
    labels = {m.ticker: m.bracket.label() for view in views for m in view.markets}
    prints = _thinned(
        Trade.objects.filter(market__ticker__in=labels, created_time__gte=since, created_time__lte=now)
        .order_by("created_time")
        .values_list("market__ticker", "created_time", "yes_price"),
        now,
    )
    fills = (
        Fill.objects.filter(mode=mode, ticker__in=labels, created_time__gte=since, created_time__lte=now)
        .order_by("created_time")
        .only("ticker", "book_side", "price", "count", "created_time")
    )
    ours: dict[str, list[dict[str, Any]]] = {}
    event_of = {m.ticker: view.event_ticker for view in views for m in view.markets}
    for fill in fills:
        ours.setdefault(event_of[fill.ticker], []).append(
            {
                "x": _minutes_before(fill.created_time, now),
                "y": float(fill.price * CENTS),
                "label": f"{labels[fill.ticker]}: bought {fill.count.normalize():f} {fill.buys.upper()} "
                f"at {(fill.own_price * CENTS).normalize():f}¢",
            }
        )
    charts = {}
    for view in views:
        lines = [
            {"label": labels[m.ticker], "data": prints.get(m.ticker, [])} for m in view.markets if prints.get(m.ticker)
        ]
        if lines or view.event_ticker in ours:
            charts[view.event_ticker] = {"lines": lines, "fills": ours.get(view.event_ticker, [])}
    return charts


def _thinned(rows: Iterable[tuple[str, datetime, Decimal]], now: datetime) -> dict[str, list[dict[str, float]]]:
    """The last print of each bucket, per market, oldest first."""
    last: dict[str, dict[int, dict[str, float]]] = {}
    for ticker, at, price in rows:
        bucket = int((now - at) / BUCKET)
        last.setdefault(ticker, {})[bucket] = {"x": _minutes_before(at, now), "y": float(price * CENTS)}
    return {ticker: [points[b] for b in sorted(points, reverse=True)] for ticker, points in last.items()}


def _minutes_before(at: datetime, now: datetime) -> float:
    return -round((now - at).total_seconds() / 60, 1)
