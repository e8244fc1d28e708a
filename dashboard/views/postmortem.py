"""Post-mortems of settled markets: what we believed, what the market said, what happened, why it won or lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from dashboard.views.paging import PER_PAGE
from kalshiweb.templatetags.money import contracts, dollars
from markets.brackets import Bracket, BracketError
from markets.models import Event, Market
from trading.models import DecisionLogEntry, Fill, Position, Settlement
from weather.models import Observation

ZERO = Decimal(0)
CENT = Decimal("0.01")
# Which observation of the day's high to show, best first: the climate report Kalshi settles on.
SOURCES = [
    Observation.Source.CLI,
    Observation.Source.IEM_CLI,
    Observation.Source.KALSHI,
    Observation.Source.CLI_PRELIMINARY,
    Observation.Source.GHCND,
    Observation.Source.ACIS,
]


def _market_pnl() -> Subquery:
    """The market's whole realised P&L (its fills' and its settlement's, after fees): the position's."""
    held = Position.objects.filter(mode=OuterRef("mode"), ticker=OuterRef("ticker"))
    return Subquery(held.values("realized_pnl")[:1])


@staff_member_required
@never_cache
def postmortems(request: HttpRequest) -> HttpResponse:
    """The configured mode's settled markets, newest first, each with what it made or lost."""
    # Page the ids, then read the page's rows with their market, city and P&L: joining every settlement
    # of a year before sorting them costs more than the page.
    ids = (
        Settlement.objects.filter(mode=settings.TRADING_MODE)
        .order_by("-settled_time", "-id")
        .values_list("id", flat=True)
    )
    page = Paginator(ids, PER_PAGE).get_page(request.GET.get("page"))
    rows = (
        Settlement.objects.filter(id__in=list(page.object_list))
        .select_related("market__event__series__city")
        .annotate(market_pnl=_market_pnl())
        .order_by("-settled_time", "-id")
    )
    context = {"page": page, "settlements": [SettledRow.of(settlement) for settlement in rows]}
    return render(request, "dashboard/postmortem.html", context)


@dataclass(frozen=True)
class SettledRow:
    """One settled market's cells, formatted once here with the money filters the templates use (as the fills
    page's are): looked up through the market, its event, series and city and filtered in the template, a page
    of 50 spent most of its time in the template engine."""

    pk: int
    url: str
    settled: str  # UTC, to the minute
    ticker: str
    city_day: str | None  # None: the market is not in our tables
    held: str  # "10 YES"
    cost: str
    paid_out: str
    result: str
    pnl: str

    @classmethod
    def of(cls, settlement: Settlement) -> SettledRow:
        event = settlement.market.event if settlement.market is not None else None
        held = (
            f"{contracts(settlement.yes_count)} YES" if settlement.yes_count else f"{contracts(settlement.no_count)} NO"
        )
        market_pnl = getattr(settlement, "market_pnl", None)
        return cls(
            pk=settlement.pk,
            url=reverse("dashboard-postmortem-detail", args=[settlement.pk]),
            settled=settlement.settled_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            ticker=settlement.ticker,
            city_day=_city_day(event) if event is not None else None,
            held=held,
            cost=dollars(settlement.cost),
            paid_out=dollars(settlement.revenue),
            result=settlement.get_result_display().upper(),
            pnl=dollars(market_pnl if market_pnl is not None else settlement.pnl),
        )


def _city_day(event: Event) -> str:
    city = event.series.city
    day = f"{event.target_date:%Y-%m-%d}" if event.target_date else ""
    return f"{city.name if city is not None and city.name else '—'} · {day}"


@dataclass(frozen=True)
class FillBelief:
    """One fill in the market, beside what we and the market believed when its order was decided."""

    fill: Fill
    probability: Decimal | None  # the model's P(YES)
    market_probability: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    edge: Decimal | None


@dataclass(frozen=True)
class Outcome:
    """What was held at settlement and what happened, in the numbers the explanation is made of."""

    side: str  # "yes" or "no": the side held when it settled
    count: Decimal
    paid: Decimal  # average price per contract held, before fees
    payout: Decimal  # what each held contract paid
    believed: Decimal | None  # our P(YES), averaged over the fills that bought the side held
    market_said: Decimal | None  # the market's P(YES) then, averaged the same way
    high_f: Decimal | None
    bracket: Bracket | None
    result: str
    total: Decimal  # the market's whole P&L, after fees


@staff_member_required
@never_cache
def postmortem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One settled market: each fill with its belief, the settlement, the observed high and the explanation."""
    settlement = get_object_or_404(
        Settlement.objects.select_related("market__event__series__city").annotate(market_pnl=_market_pnl()),
        pk=pk,
        mode=settings.TRADING_MODE,
    )
    market = settlement.market
    fills = _beliefs(settlement)
    high, source = _observed_high(market)
    bracket = _bracket(market)
    outcome = _outcome(settlement, fills, high, bracket)
    context = {
        "settlement": settlement,
        "market": market,
        "bracket": bracket.label() if bracket is not None else None,
        "fills": fills,
        "high_f": high,
        "high_source": source,
        "outcome": outcome,
        "explanation": explain(outcome) if outcome is not None else None,
    }
    return render(request, "dashboard/postmortem_detail.html", context)


def _beliefs(settlement: Settlement) -> list[FillBelief]:
    """The market's fills in time order, each with its order's logged decision (two queries)."""
    fills = list(
        Fill.objects.filter(mode=settlement.mode, ticker=settlement.ticker)
        .select_related("order")
        .order_by("created_time", "id")
    )
    ids = {f.order.client_order_id for f in fills if f.order is not None}
    # By the market's ticker, which is indexed (a year of the log is millions of rows), with no mode and no order:
    # either would lead SQLite to walk the (mode, at) index instead. A client order id is one order's, of one mode.
    found = DecisionLogEntry.objects.filter(ticker=settlement.ticker, client_order_id__in=ids).order_by()
    logged = {e.client_order_id: e for e in found}
    return [_belief(f, logged.get(f.order.client_order_id) if f.order is not None else None) for f in fills]


def _belief(fill: Fill, entry: DecisionLogEntry | None) -> FillBelief:
    if entry is not None:
        return FillBelief(
            fill, _dec(entry.probability), _dec(entry.market_probability), entry.yes_bid, entry.yes_ask, entry.edge
        )
    decided: dict[str, Any] = fill.order.decision if fill.order is not None else {}  # the order's own record
    return FillBelief(
        fill,
        _dec(decided.get("probability")),
        _dec(decided.get("market_probability")),
        _dec(decided.get("yes_bid")),
        _dec(decided.get("yes_ask")),
        _dec(decided.get("expected_value")),
    )


def _dec(value: object) -> Decimal | None:
    """A stored probability or price (a float or a string in the log) as the Decimal it was written as."""
    return None if value is None or value == "" else Decimal(str(value))


def _observed_high(market: Market | None) -> tuple[Decimal | None, str]:
    """The day's observed high (°F) and where it is from: the best observation stored, else the event's."""
    if market is None:
        return None, ""
    event = market.event
    city = event.series.city
    if city is not None and event.target_date is not None:
        found = {
            o.source: o
            for o in Observation.objects.filter(
                city=city, date=event.target_date, source__in=SOURCES, high_f__isnull=False
            )
        }
        for source in SOURCES:
            if source in found:
                return _dec(found[source].high_f), found[source].get_source_display()
    if event.observed_high_f is not None:
        return event.observed_high_f, event.observed_high_source or "observed"
    return None, ""


def _bracket(market: Market | None) -> Bracket | None:
    try:
        return market.bracket() if market is not None else None
    except BracketError:
        return None


def _outcome(
    settlement: Settlement, fills: list[FillBelief], high: Decimal | None, bracket: Bracket | None
) -> Outcome | None:
    """The numbers behind the explanation; None when nothing was held at settlement."""
    side = "yes" if settlement.yes_count > 0 else "no"
    count = settlement.yes_count if side == "yes" else settlement.no_count
    if count <= 0:
        return None
    bought = [b for b in fills if b.fill.buys.value == side]
    whole = getattr(settlement, "market_pnl", None)  # the position's P&L; None if its row is gone
    return Outcome(
        side=side,
        count=count,
        paid=settlement.cost / count,
        payout=settlement.revenue / count,
        believed=_weighted(bought, "probability"),
        market_said=_weighted(bought, "market_probability"),
        high_f=high,
        bracket=bracket,
        result=settlement.result,
        total=settlement.pnl if whole is None else whole,
    )


def _weighted(beliefs: list[FillBelief], name: str) -> Decimal | None:
    """The contract-weighted mean of a belief over the fills that have it."""
    known = [(getattr(b, name), b.fill.count) for b in beliefs if getattr(b, name) is not None]
    contracts = sum((count for _, count in known), ZERO)
    if not contracts:
        return None
    mean: Decimal = sum((value * count for value, count in known), ZERO) / contracts
    return mean


def _cents(price: Decimal) -> str:
    amount = (price * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
    return f"{amount:f}¢"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def _signed_dollars(amount: Decimal) -> str:
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{'+' if rounded >= 0 else '-'}${abs(rounded):,.2f}"


def explain(o: Outcome) -> str:
    """Why it won or lost, in plain words from the numbers alone.

    E.g. "We paid 42¢ for YES believing 61%; the market said 45%; the high was
    78°F, inside the bracket (78° to 79°), so YES paid $1.00: +$0.58 a
    contract before fees."
    """
    side = o.side.upper()

    def own(p_yes: Decimal) -> Decimal:  # our side's chance, from P(YES)
        return p_yes if o.side == "yes" else 1 - p_yes

    words = [f"We paid {_cents(o.paid)} for {side}"]
    if o.believed is not None:
        words[0] += f" believing {_percent(own(o.believed))}"
    if o.market_said is not None:
        words.append(f"the market said {_percent(own(o.market_said))}")
    happened = f"the market settled {o.result.upper() or 'without a result'}"
    if o.high_f is not None:
        where = ""
        if o.bracket is not None:
            inside = o.bracket.contains(int(o.high_f.to_integral_value(rounding=ROUND_HALF_UP)))
            where = f", {'inside' if inside else 'outside'} the bracket ({o.bracket.label()})"
        happened = f"the high was {o.high_f.normalize():f}°F{where}"
    per_contract = o.payout - o.paid
    words.append(f"{happened}, so {side} paid ${o.payout:,.2f}: {_signed_dollars(per_contract)} a contract before fees")
    verdict = "a win" if o.total > 0 else "a loss" if o.total < 0 else "even"
    return (
        "; ".join(words)
        + f". All told, after fees and any trading before it settled: {_signed_dollars(o.total)} ({verdict})."
    )
