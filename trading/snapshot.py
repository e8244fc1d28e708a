"""The live snapshot: what a trading cycle at ``now`` may know, read from the database.

It has the shape the backtest builds from recorded history (trading.decisions),
so both call the same strategies and risk rules. Events are those of active
cities whose markets are open at ``now``; probabilities are the promoted
model's latest prediction made by ``now``; quotes come from a
:class:`QuoteSource` (the stored order books by default, the recorded prints
when replaying a day); the portfolio is the mode's ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from markets.brackets import BracketError
from markets.models import Event, Market, OrderBookSnapshot, Trade
from markets.schemas.enums import BookSide
from prediction.models import BracketProbability, ModelVersion, Prediction
from trading.accounting import account_for, equity, realized_on
from trading.decisions import (
    EventView,
    Holding,
    MarketView,
    Portfolio,
    Quote,
    Snapshot,
    WorkingOrder,
    market_probabilities,
)
from trading.fees import FeeSchedule
from trading.limits import Limits, TradingStatus
from trading.models import Order, Position

ZERO = Decimal(0)
ONE = Decimal(1)


def fee_schedule(event: Event, markets: Sequence[Market]) -> FeeSchedule:
    """The fees of the event's markets: the series' schedule, the event's override, a waiver all markets share."""
    waivers = {m.fee_waiver_expiration_time for m in markets}
    return FeeSchedule.effective(
        series_type=event.series.fee_type,
        series_multiplier=Decimal(event.series.fee_multiplier),
        event_type=event.fee_type_override or None,
        event_multiplier=event.fee_multiplier_override,
        waived_until=waivers.pop() if len(waivers) == 1 else None,  # markets that differ: charge the fee
    )


class QuoteSource(Protocol):
    def quotes(self, markets: Sequence[Market], now: datetime) -> dict[int, Quote]:
        """Each market's quote as known at ``now``, by market id (missing: nothing known)."""


class StoredBooks:
    """Quotes from the latest stored order book of each market (the feed's, or a REST sync's) up to ``now``."""

    def quotes(self, markets: Sequence[Market], now: datetime) -> dict[int, Quote]:
        ids = [m.pk for m in markets]
        books = {book.market_id: book for book in OrderBookSnapshot.objects.newest_per_market(ids, now)}
        last = _last_prices(ids, now)
        quotes = {}
        for market_id in ids:
            book = books.get(market_id)
            quotes[market_id] = (
                book_quote(book.yes_bids, book.no_bids, book.captured_at, last.get(market_id))
                if book is not None
                else Quote(last_price=last.get(market_id))
            )
        return quotes


def book_quote(
    yes_bids: Sequence[Sequence[str]], no_bids: Sequence[Sequence[str]], seen: datetime, last: Decimal | None
) -> Quote:
    """The best prices of a stored book (levels as ``[price, size]`` strings, in any order)."""
    best_yes = max(((Decimal(p), Decimal(s)) for p, s in yes_bids), default=None)
    best_no = max(((Decimal(p), Decimal(s)) for p, s in no_bids), default=None)
    return Quote(
        yes_bid=best_yes[0] if best_yes else None,
        yes_bid_size=best_yes[1] if best_yes else None,
        yes_ask=ONE - best_no[0] if best_no else None,
        yes_ask_size=best_no[1] if best_no else None,
        last_price=last,
        bid_at=seen if best_yes else None,
        ask_at=seen if best_no else None,
    )


def _last_prices(market_ids: Sequence[int], now: datetime) -> dict[int, Decimal]:
    last: dict[int, Decimal] = {}
    since = now - timedelta(days=2)  # a weather market lives a day or two: older prints are not its price
    for market_id, price in (
        Trade.objects.filter(market_id__in=market_ids, created_time__gt=since, created_time__lte=now)
        .order_by("market_id", "-created_time")
        .values_list("market_id", "yes_price")
    ):
        last.setdefault(market_id, price)
    return last


def open_events(now: datetime, *, day: date | None = None, tickers: Collection[str] | None = None) -> list[Event]:
    """Events of active cities with markets open at ``now`` (only ``day``'s, and only these event tickers, if
    given), their markets and series loaded."""
    events = _open(now) if day is None else _open(now).filter(target_date=day)
    if tickers is not None:
        events = events.filter(event_ticker__in=tickers)
    return list(events.select_related("series", "series__city").prefetch_related("markets").order_by("event_ticker"))


def open_index(now: datetime) -> dict[date, list[tuple[str, str]]]:
    """(city, event ticker) of each event :func:`open_events` finds at ``now``, by climate day in order, then by
    city: the open days and their cities, read in one query without loading an event."""
    rows = (
        _open(now)
        .order_by("target_date", "series__city__name", "event_ticker")
        .values_list("target_date", "series__city__name", "event_ticker")
    )
    index: dict[date, list[tuple[str, str]]] = {}
    for day, city, ticker in rows:
        if day is not None:  # an event without a climate day is not shown (event_views skips it)
            index.setdefault(day, []).append((city, ticker))
    return index


def _open(now: datetime) -> QuerySet[Event]:
    """Events of active cities with a market open at ``now``. The open markets are found first, by close time
    (indexed), rather than joined to every event: no duplicate rows to fold, no scan of a year of events."""
    open_at = Q(open_time__lte=now) | Q(open_time__isnull=True)
    open_markets = Market.objects.filter(open_at, close_time__gt=now).values("event_id")
    return Event.objects.filter(pk__in=open_markets, series__city__is_active=True)


def model_probabilities(events: Sequence[Event], now: datetime) -> tuple[dict[int, float], str]:
    """The promoted model's P(YES) per market from its latest prediction of each event made by ``now``."""
    model, latest = latest_predictions(events, now)
    return probabilities_of(latest), str(model or "")


def latest_predictions(events: Sequence[Event], now: datetime) -> tuple[ModelVersion | None, QuerySet[Prediction]]:
    """The promoted model and its newest prediction of each event made by ``now`` (none without a promoted model).

    A queryset, not yet read: the trading cycle needs only their probabilities, which
    :func:`probabilities_of` reads with it as a subquery; the markets page reads the rows too.
    """
    model = ModelVersion.objects.promoted().first()
    if model is None:
        return None, Prediction.objects.none()
    return model, Prediction.objects.newest_per_event(model, [e.pk for e in events], now)


def probabilities_of(predictions: QuerySet[Prediction]) -> dict[int, float]:
    """P(YES) per market id, from these predictions' brackets."""
    # No order: the default one joins each bracket's prediction, market and event to sort rows read into a dict.
    rows = BracketProbability.objects.filter(prediction__in=predictions.values("pk")).order_by()
    return {market_id: float(p) for market_id, p in rows.values_list("market_id", "probability")}


def event_views(
    events: Sequence[Event], now: datetime, quotes: QuoteSource, probabilities: dict[int, float], model: str
) -> tuple[EventView, ...]:
    tradeable = []
    for event in events:
        markets, day = list(event.markets.all()), event.target_date
        if not markets or day is None:
            continue
        try:
            brackets = event.brackets()
        except BracketError:
            continue  # an event whose brackets cannot be read cannot be traded (the backtest skips it too)
        ordered = sorted(markets, key=lambda m: brackets[m.ticker].continuous_edges())
        tradeable.append((event, day, ordered, brackets))
    known = quotes.quotes([m for _, _, ordered, _ in tradeable for m in ordered], now)  # one read for every book
    views = []
    for event, day, ordered, brackets in tradeable:
        market_p = market_probabilities([known.get(m.pk) or Quote() for m in ordered])
        views.append(
            EventView(
                event_ticker=event.event_ticker,
                series_ticker=event.series.ticker,
                city=event.series.city.name if event.series.city else "",
                target_date=day,
                fees=fee_schedule(event, ordered),
                markets=tuple(
                    MarketView(
                        ticker=m.ticker,
                        bracket=brackets[m.ticker],
                        quote=known.get(m.pk) or Quote(),
                        probability=probabilities.get(m.pk),
                        market_probability=market_p[i] if market_p is not None else None,
                    )
                    for i, m in enumerate(ordered)
                ),
                close_time=min((m.close_time for m in ordered if m.close_time), default=None),
                model=model if any(m.pk in probabilities for m in ordered) else "",
            )
        )
    return tuple(views)


UNBOOKED_WINDOW = timedelta(days=3)  # a weather market trades for a day or two
WHERE = ("market__event__event_ticker", "market__event__series__city__name", "market__event__target_date")


def portfolio(mode: str, now: datetime) -> Portfolio:
    """The mode's account as a decision sees it: cash, open positions at cost, working orders, today's P&L.

    Read as plain values (no model instances): a cycle reads it twice, once
    for the decision and once inside the reservation's lock.
    """
    account = account_for(mode)
    positions = Position.objects.filter(mode=mode, settled=False).exclude(yes_count=0, no_count=0)
    holdings = tuple(
        Holding(ticker, *_where(ticker, *where), yes=yes, no=no, cost=cost)
        for ticker, yes, no, cost, *where in positions.values_list(
            "ticker", "yes_count", "no_count", "total_cost", *WHERE
        )
    )
    orders = Order.objects.filter(mode=mode, status__in=[*Order.WORKING, Order.Status.AWAITING_APPROVAL])
    working, blocked = [], set()
    for row in orders.values(
        "client_order_id", "ticker", "event_ticker", "status", "book_side", "price", "count", "filled_count",
        "remaining_count", "post_only", "submitted_at", "created_at", "strategy", *WHERE,
    ):  # fmt: skip
        _, city, day = _where(row["ticker"], *(row[name] for name in WHERE))
        working.append(
            WorkingOrder(
                client_order_id=row["client_order_id"],
                ticker=row["ticker"],
                event_ticker=row["event_ticker"],
                city=city,
                target_date=day,
                side=BookSide(row["book_side"]),
                price=row["price"],
                remaining=row["remaining_count"]
                if row["status"] == Order.Status.RESTING
                else row["count"] - row["filled_count"],
                post_only=row["post_only"],
                placed_at=row["submitted_at"] or row["created_at"],
                strategy=row["strategy"],
            )
        )
        if row["status"] == Order.Status.UNKNOWN:
            blocked.add(row["ticker"])
    working += _unbooked_fills(mode, now)
    peak = max(account.peak_equity, equity(account))
    return Portfolio(account.cash, holdings, tuple(working), realized_on(mode, now), peak, frozenset(blocked))


def _unbooked_fills(mode: str, now: datetime) -> list[WorkingOrder]:
    """Contracts the exchange says our orders filled whose fills are not booked yet, as orders still to pay for.

    The feed or reconciliation books them soon; until then neither the positions nor the cash show them, and
    a decision that did not count them could buy past a limit. No strategy owns these, so none cancels them.
    Only orders changed in the last UNBOOKED_WINDOW are summed (every cycle runs this): a fill still unbooked
    after that is a difference reconciliation reports, and its market has long closed.
    """
    booked = Coalesce(Sum("fills__count"), Value(Decimal(0)), output_field=DecimalField())
    recent = Order.objects.filter(mode=mode, filled_count__gt=0, updated_at__gte=now - UNBOOKED_WINDOW)
    orders = recent.annotate(booked=booked)
    unbooked = []
    for row in orders.filter(filled_count__gt=F("booked")).values(
        "client_order_id", "ticker", "book_side", "price", "filled_count", "booked", "submitted_at", "created_at",
        *WHERE,
    ):  # fmt: skip
        event_ticker, city, day = _where(row["ticker"], *(row[name] for name in WHERE))
        unbooked.append(
            WorkingOrder(
                client_order_id=f"{row['client_order_id']} (fills not booked yet)",
                ticker=row["ticker"],
                event_ticker=event_ticker,
                city=city,
                target_date=day,
                side=BookSide(row["book_side"]),
                price=row["price"],
                remaining=row["filled_count"] - row["booked"],
                post_only=False,
                placed_at=row["submitted_at"] or row["created_at"],
            )
        )
    return unbooked


def _where(ticker: str, event_ticker: str | None, city: str | None, day: date | None) -> tuple[str, str, date]:
    """(event ticker, city, climate day) of a market we hold or work an order in.

    A market not (yet) in our tables still counts in total exposure, under its
    event's ticker and no city or day.
    """
    if event_ticker is None or day is None:
        return ticker.rsplit("-", 1)[0], "", date.min
    return event_ticker, city or "", day


class ProbabilitySource(Protocol):
    def __call__(self, events: Sequence[Event], now: datetime) -> tuple[dict[int, float], str]:
        """The model's P(YES) per market id known at ``now``, and the model's name."""


@dataclass(frozen=True)
class Sources:
    """Where a snapshot's market data comes from: the stored books and predictions, unless replaying a day.

    ``events`` limits the snapshot to these event tickers (a replay decides an
    event at its decision times only, as the backtest does).
    """

    quotes: QuoteSource = field(default_factory=StoredBooks)
    probabilities: ProbabilitySource = model_probabilities
    events: frozenset[str] | None = None
    live: bool = True  # live data: its age is checked by the kill switch (a replay's is the quote window's)


LIVE = Sources()


def build_snapshot(
    *, mode: str, now: datetime, limits: Limits, status: TradingStatus, sources: Sources = LIVE
) -> Snapshot:
    events = open_events(now, tickers=sources.events)
    probabilities, model = sources.probabilities(events, now)
    views = event_views(events, now, sources.quotes, probabilities, model)
    return Snapshot(now, views, portfolio(mode, now), limits, status)
