"""Point-in-time cases: what could be known about an event at a decision time, and its outcome.

A case holds only data available at its decision time T: forecasts available
by T (weather.services.forecasts), the market's last trade at or before T,
observed highs of days whose value was published by T, the running maximum
recorded by T. The outcome (which bracket won, the settled high) is carried
separately and is read only by scoring and by training on earlier days.

Decision times are local clock times at the city (10:00 on the climate day,
or 18:00 the day before); a day's observed high counts as known from 09:00
local standard time the next day, after the overnight final climate report.
"""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from markets.brackets import Bracket, BracketError
from markets.models import Event, Market, OrderBookSnapshot, Series, Trade
from markets.outcomes import event_outcome
from prediction.book import BookFeatures, Quote, best_quote, book_features
from prediction.cases import (
    DecisionTime,
    EventCase,
    ForecastInput,
    KnownHigh,
    MarketInput,
    Outcome,
    TrainingPair,
    high_known_from,
    listed_centre,
)
from weather.climate import climate_date_at, lead_days
from weather.models import City, ForecastSnapshot, RunningExtreme
from weather.quantities import ForecastQuantity
from weather.services.forecasts import forecasts_known_at
from weather.services.truth import observed_highs

logger = logging.getLogger(__name__)

HISTORY_START = date(1990, 1, 1)
QUOTE_MAX_AGE = timedelta(minutes=15)  # a live quote older than this is not the market's price any more


@dataclass
class CaseReport:
    cases: list[EventCase] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # The events read, with their markets, by ticker: callers storing results need not load them again.
    events: dict[str, Event] = field(default_factory=dict)


def build_cases(
    *,
    series: Series,
    start: date,
    end: date,
    decision: DecisionTime,
    micro: bool = False,
    history: Sequence[KnownHigh] | None = None,
) -> CaseReport:
    """Every event of ``series`` with a climate day in [start, end], as known at ``decision``.

    With ``micro`` each case carries its order-book features at the decision
    (from the latest OrderBookSnapshot of each market by then). ``history`` is
    ``city_history(city, series=series, end=end)`` when the caller has it already.
    """
    city = series.city
    if city is None:
        return CaseReport(skipped=[f"{series.ticker}: no city"])
    events = list(
        Event.objects.filter(series=series, target_date__gte=start, target_date__lte=end)
        .prefetch_related("markets")
        .order_by("target_date")
    )
    moments = {e.event_ticker: decision.at(e.target_date, city.timezone) for e in events if e.target_date}
    if history is None:
        history = city_history(city, series=series, end=end)
    return _cases(series, city, events, moments, history=history, micro=micro)


def live_cases(*, series: Series, now: datetime, micro: bool = False, replay: bool = False) -> CaseReport:
    """Every open event of ``series`` (climate day today or later, a market still trading), as known ``now``.

    Market prices are the mid of each market's synced quote when it is at
    most QUOTE_MAX_AGE old, else the last trade by ``now``. With ``replay``
    (``now`` in the past, on history) the stored status is today's, not
    then's: an event is open when one of its markets was open at ``now`` by
    its schedule (see :func:`open_at`).
    """
    city = series.city
    if city is None:
        return CaseReport(skipped=[f"{series.ticker}: no city"])
    today = climate_date_at(now, city.standard_utc_offset_minutes)
    events = list(
        Event.objects.filter(open_at(now) if replay else Q(markets__status=Market.Status.ACTIVE))
        .filter(series=series, target_date__gte=today)
        .distinct()
        .prefetch_related("markets")
        .order_by("target_date")
    )
    moments = {e.event_ticker: now for e in events}
    history = city_history(city, series=series, end=today)
    return _cases(series, city, events, moments, history=history, micro=micro, quotes_at=now)


def open_at(moment: datetime) -> Q:
    """Events with a market open at ``moment``: opened by then, closing after it, not settled by then."""
    return Q(markets__open_time__lte=moment, markets__close_time__gt=moment) & (
        Q(markets__settled_at__isnull=True) | Q(markets__settled_at__gt=moment)
    )


def _cases(
    series: Series,
    city: City,
    events: list[Event],
    moments: dict[str, datetime],
    *,
    history: Sequence[KnownHigh],
    micro: bool,
    quotes_at: datetime | None = None,
) -> CaseReport:
    report = CaseReport(events={e.event_ticker: e for e in events})
    all_markets = [m for e in events for m in e.markets.all()]
    last = max(moments.values(), default=None)
    prints = _last_prints(events, moments)
    forecasts = forecasts_known_at(
        city=city, moments=[(e.target_date, moments[e.event_ticker]) for e in events if e.target_date]
    )
    known_from = [h.known_from for h in history]
    running = _running_maxima(city, [e.target_date for e in events if e.target_date], until=last)
    books = _book_history(all_markets, until=last) if micro else {}
    for event in events:
        if event.target_date is None:
            continue
        decided_at = moments[event.event_ticker]
        try:
            markets = _markets(event, prints, quotes_at=quotes_at)
        except BracketError as exc:
            report.skipped.append(f"{event.event_ticker}: {exc}")
            continue
        report.cases.append(
            EventCase(
                event_ticker=event.event_ticker,
                series_ticker=series.ticker,
                city=city.name,
                target_date=event.target_date,
                decided_at=decided_at,
                standard_offset_minutes=city.standard_utc_offset_minutes,
                markets=markets,
                forecasts=_forecast_inputs(forecasts[(event.target_date, decided_at)], city, event.target_date),
                history=tuple(history[: bisect.bisect_right(known_from, decided_at)]),
                running_max_f=_running_max_at(running, event.target_date, decided_at),
                outcome=_outcome(event),
                listed_at=_listed_at(event),
                book=_book_at(event, books, decided_at) if micro else None,
            )
        )
    return report


def city_history(city: City, *, series: Series | None = None, end: date) -> list[KnownHigh]:
    """Observed highs of the city up to ``end``: settlement truth, else what Kalshi settled on."""
    truth = observed_highs(city, HISTORY_START, end)
    highs = {day: (high.value_f, high.source) for day, high in truth.items()}
    if series is not None:
        for day, value in _settled_highs(series, end).items():
            highs.setdefault(day, (value, "kalshi"))
    return [
        KnownHigh(day, value, source, high_known_from(day, city.standard_utc_offset_minutes))
        for day, (value, source) in sorted(highs.items())
    ]


def _settled_highs(series: Series, end: date) -> dict[date, float]:
    """The high each settled event of ``series`` up to ``end`` settled on, by climate day."""
    events = Event.objects.filter(series=series, target_date__lte=end).prefetch_related(
        Prefetch(
            "markets",
            queryset=Market.objects.exclude(result="").only("event_id", "ticker", "result", "expiration_value"),
        )
    )
    values: dict[date, float] = {}
    for event in events.only("id", "target_date"):
        settled = event_outcome(event.markets.all()).settled_high
        if event.target_date is not None and settled is not None:
            values[event.target_date] = float(settled)
    return values


def _last_prints(events: list[Event], moments: dict[str, datetime]) -> dict[int, tuple[datetime, Decimal]]:
    """Each market's last print at or before its event's decision moment: (time, YES price).

    One query per event, the database picking each market's latest print:
    reading whole tapes into Python cost seconds per series and decision time.
    """
    prints: dict[int, tuple[datetime, Decimal]] = {}
    for event in events:
        moment = moments.get(event.event_ticker)
        ids = [m.pk for m in event.markets.all()]
        if moment is None or not ids:
            continue
        latest = (
            Trade.objects.filter(market__in=ids, created_time__lte=moment)
            .annotate(
                rank=Window(
                    RowNumber(), partition_by=F("market_id"), order_by=[F("created_time").desc(), F("trade_id").desc()]
                )
            )
            .filter(rank=1)
            .values_list("market_id", "created_time", "yes_price")
        )
        for market_id, created, price in latest:
            prints[market_id] = (created, price)
    return prints


def _listed_at(event: Event) -> datetime | None:
    opened = [m.open_time for m in event.markets.all() if m.open_time is not None]
    return min(opened) if opened else None


def _markets(
    event: Event,
    prints: dict[int, tuple[datetime, Decimal]],
    *,
    quotes_at: datetime | None = None,
) -> tuple[MarketInput, ...]:
    inputs = []
    brackets = event.brackets()
    for market in event.markets.all():
        bracket = brackets[market.ticker]
        printed, price = prints.get(market.pk, (None, None))
        inputs.append(
            MarketInput(
                market.ticker,
                bracket,
                price,
                printed,
                _fresh_mid(market, quotes_at) if quotes_at is not None else None,
            )
        )
    return tuple(sorted(inputs, key=lambda m: (m.bracket.low is not None, m.bracket.low or 0, m.bracket.high or 0)))


def _fresh_mid(market: Market, now: datetime) -> Decimal | None:
    """The mid of the market's synced two-sided quote, if it was synced within QUOTE_MAX_AGE of ``now``."""
    if market.yes_bid is None or market.yes_ask is None or market.synced_at is None:
        return None
    if not timedelta(0) <= now - market.synced_at <= QUOTE_MAX_AGE or market.yes_ask < market.yes_bid:
        return None
    return (market.yes_bid + market.yes_ask) / 2


BookHistory = dict[int, tuple[list[datetime], list[Quote | None]]]


def _book_history(markets: list[Market], *, until: datetime | None) -> BookHistory:
    """Every market's best quotes from its book snapshots up to ``until``, for bisection."""
    books: BookHistory = defaultdict(lambda: ([], []))
    if until is None or not markets:
        return books
    rows = (
        OrderBookSnapshot.objects.filter(market__in=[m.pk for m in markets], captured_at__lte=until)
        .order_by("market_id", "captured_at")
        .values_list("market_id", "captured_at", "yes_bids", "no_bids")
    )
    for market_id, captured, yes_bids, no_bids in rows.iterator(chunk_size=10_000):
        times, quotes = books[market_id]
        times.append(captured)
        quotes.append(best_quote(_levels(yes_bids), _levels(no_bids)))
    return books


def _levels(raw: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(price), Decimal(size)) for price, size in raw]


def _book_at(event: Event, books: BookHistory, when: datetime) -> BookFeatures | None:
    """The event's book features from each market's latest snapshot by ``when`` (None if one has none)."""
    brackets = event.brackets()
    quotes: list[tuple[Bracket, Quote | None]] = []
    for market in event.markets.all():
        times, snapshots = books.get(market.pk, ([], []))
        index = bisect.bisect_right(times, when) - 1
        quotes.append((brackets[market.ticker], snapshots[index] if index >= 0 else None))
    return book_features(quotes)


def _forecast_inputs(rows: list[ForecastSnapshot], city: City, target: date) -> tuple[ForecastInput, ...]:
    inputs = []
    for row in rows:
        if row.high_f is None:
            continue
        lead = lead_days(target, row.available_at, city.standard_utc_offset_minutes)
        inputs.append(
            ForecastInput(
                row.source,
                row.model,
                lead,
                float(row.high_f),
                row.n_hours,
                tuple(float(v) for v in row.members_high_f),
                row.available_at,
                ForecastQuantity(row.quantity),
            )
        )
    return tuple(inputs)


RunningMaxima = dict[date, tuple[list[datetime], list[float | None]]]


def _running_maxima(city: City, days: list[date], *, until: datetime | None) -> RunningMaxima:
    """Every day's running maxima recorded up to ``until``, in recording order, for bisection.

    Rows recorded at the same moment are ordered by their latest observation,
    so such a tie always resolves to the most up-to-date row.
    """
    maxima: RunningMaxima = defaultdict(lambda: ([], []))
    if until is None or not days:
        return maxima
    rows = (
        RunningExtreme.objects.filter(city=city, date__in=sorted(set(days)), recorded_at__lte=until)
        .order_by("date", "recorded_at", "observed_at")
        .values_list("date", "recorded_at", "max_f")
    )
    for day, recorded, value in rows.iterator(chunk_size=10_000):
        times, values = maxima[day]
        times.append(recorded)
        values.append(value)
    return maxima


def _running_max_at(maxima: RunningMaxima, target: date, decided_at: datetime) -> float | None:
    """The running maximum of ``target`` last recorded by ``decided_at``: None if none was, or it had no value."""
    times, values = maxima.get(target, ([], []))
    index = bisect.bisect_right(times, decided_at) - 1
    latest = values[index] if index >= 0 else None
    return float(latest) if latest is not None else None


def _outcome(event: Event) -> Outcome | None:
    """Which market won and the high it settled on; None until exactly one market resolved YES."""
    outcome = event_outcome(event.markets.all())
    if outcome.winner is None:
        return None
    return Outcome(outcome.winner, float(outcome.settled_high) if outcome.settled_high is not None else None)


def training_pairs(
    *,
    city: City,
    decision: DecisionTime,
    start: date,
    end: date,
    series: Series | None = None,
    require_forecasts: bool = True,
    micro: bool = False,
    history: Sequence[KnownHigh] | None = None,
) -> list[TrainingPair]:
    """Forecast/outcome pairs for every day in [start, end] with an observed high, Kalshi event or not.

    Forecast archives often start long before the first market (New York's by ten
    months), and a model of the weather learns from every such day. Without
    ``require_forecasts`` days with no forecast are kept too: climatology and
    persistence models learn from them. ``history`` is ``city_history(city,
    series=series, end=end)`` when the caller has it already.
    """
    if history is None:
        history = city_history(city, series=series, end=end)
    highs = {h.day: h for h in history if h.day >= start}
    moments = [(day, decision.at(day, city.timezone)) for day in sorted(highs)]
    known = forecasts_known_at(city=city, moments=moments)
    events = _readable_events(series, start, end) if series is not None else {}
    last = max((when for _, when in moments), default=None)
    books = _book_history([m for e in events.values() for m in e.markets.all()], until=last) if micro else {}
    pairs = []
    for day, decided_at in moments:
        inputs = _forecast_inputs(known[(day, decided_at)], city, day)
        if not inputs and require_forecasts:
            continue
        event = events.get(day)
        centre = book = None
        if event is not None:
            brackets = list(event.brackets().values())
            centre = listed_centre(brackets, listed_at=_listed_at(event), decided_at=decided_at)
            book = _book_at(event, books, decided_at) if micro else None
        high = highs[day]
        pairs.append(TrainingPair(day, decided_at, inputs, high.high_f, high.known_from, centre, book))
    return pairs


def _readable_events(series: Series, start: date, end: date) -> dict[date, Event]:
    """Each day's event with its markets, where its brackets can be read."""
    found = {}
    events = Event.objects.filter(series=series, target_date__gte=start, target_date__lte=end)
    for event in events.prefetch_related("markets"):
        try:
            event.brackets()
        except BracketError:
            continue
        if event.target_date is not None:
            found[event.target_date] = event
    return found
