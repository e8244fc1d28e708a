"""What a backtest earned and how much to believe it: P&L, risk, calibration, and intervals by resampled days.

Every fill is settled on its market's result: a contract of the side bought
pays $1 if that side won. P&L is after fees. Intervals resample whole climate
days (every event of a day together, since one weather system moves several
cities), so a lucky day cannot pass for skill.

Pure: no Django.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from backtesting.broker import FillRecord
from backtesting.engine import BacktestResult, DecisionRecord, EventHistory, History, MarketHistory
from backtesting.tape import MICROS, price_of, to_micros
from markets.schemas.enums import Side
from prediction.scoring import reliability_table

ZERO = Decimal(0)
ONE = Decimal(1)
BOOTSTRAP_SAMPLES = 2000
SEED = 20250228
EPSILON = 1e-6  # probabilities are clipped to [ε, 1-ε] for log loss


@dataclass(frozen=True)
class SettledFill:
    fill: FillRecord
    target_date: date
    payout: Decimal | None  # what one contract of the side bought paid; None while unsettled
    closing_price: Decimal | None  # the side bought's last traded price before the market closed
    model_yes: float | None  # the model's P(YES) at the decision (before shrinkage)
    market_yes: float | None  # the market's normalised price at the decision

    @property
    def pnl(self) -> Decimal | None:
        if self.payout is None:
            return None
        return self.fill.count * (self.payout - self.fill.price) - self.fill.fee

    @property
    def cost(self) -> Decimal:
        return self.fill.count * self.fill.price + self.fill.fee

    @property
    def won(self) -> bool | None:
        return None if self.payout is None else self.payout == ONE


def settle_fills(result: BacktestResult) -> list[SettledFill]:
    """Every fill of the run with its payout, the closing price and what model and market said at its decision."""
    events = {m.ticker: (e, m) for e in result.history.events for m in e.markets}
    views = {(d.at, m.ticker): m for d in result.decisions for m in d.markets}
    settled = []
    for fill in result.fills:
        event, market = events[fill.ticker]
        view = views.get((fill.decided_at, fill.ticker))
        payout = market.payout if fill.bought is Side.YES or market.payout is None else ONE - market.payout
        settled.append(
            SettledFill(
                fill=fill,
                target_date=event.target_date,
                payout=payout,
                closing_price=_closing_price(event, market, fill.bought),
                model_yes=view.probability if view is not None else None,
                market_yes=view.market_probability if view is not None else None,
            )
        )
    return settled


def _closing_price(event: EventHistory, market: MarketHistory, bought: Side) -> Decimal | None:
    last = market.tape.last_yes_price(to_micros(event.close_time))
    if last is None:
        return None
    return price_of(last) if bought is Side.YES else price_of(MICROS - last)


def summarise(
    fills: Sequence[SettledFill],
    *,
    bankroll: Decimal,
    days: Sequence[date],
    decisions: Sequence[DecisionRecord] = (),
    max_data_age: timedelta | None = None,
) -> dict[str, Any]:
    """The contract's metrics of a set of fills: overall, with ``per_series`` and ``per_strategy`` beside."""
    summary = _figures(fills, bankroll=bankroll, days=days)
    summary["coverage"] = coverage(decisions, max_data_age=max_data_age) if decisions else {}
    summary["risk"] = risk_refusals(decisions)
    summary["per_series"] = {
        name: _figures(group, bankroll=bankroll, days=days) for name, group in _grouped(fills, "series_ticker")
    }
    strategies = _grouped(fills, "strategy")
    share = bankroll / len(strategies) if strategies else bankroll  # each strategy trades its own bankroll
    summary["per_strategy"] = {
        name: _figures(group, bankroll=share, days=days)
        | {"per_series": {s: _figures(g, bankroll=share, days=days) for s, g in _grouped(group, "series_ticker")}}
        for name, group in strategies
    }
    return summary


def _grouped(fills: Sequence[SettledFill], attribute: str) -> list[tuple[str, list[SettledFill]]]:
    groups: dict[str, list[SettledFill]] = defaultdict(list)
    for settled in fills:
        groups[getattr(settled.fill, attribute)].append(settled)
    return sorted(groups.items())


def _figures(fills: Sequence[SettledFill], *, bankroll: Decimal, days: Sequence[date]) -> dict[str, Any]:
    done = [f for f in fills if f.payout is not None]
    pnl = sum((f.pnl or ZERO for f in done), ZERO)
    cost = sum((f.cost for f in done), ZERO)
    fees = sum((f.fill.fee for f in fills), ZERO)
    daily = _daily(done, days)
    low, high = _bootstrap(done, days)
    orders = _orders(done)
    figures: dict[str, Any] = {
        "n_trades": len(orders),
        "n_fills": len(fills),
        "unsettled_fills": len(fills) - len(done),
        "contracts": float(sum((f.fill.count for f in fills), ZERO)),
        "cost_dollars": _money(cost),
        "pnl_dollars": _money(pnl),
        "pnl_dollars_ci": [low[0], high[0]],
        "fees_dollars": _money(fees),
        "roi": _ratio(pnl, cost),
        "roi_ci": [low[1], high[1]],
        "sharpe": _sharpe(daily, bankroll),
        "max_drawdown": _money(_max_drawdown(daily)),
        "max_drawdown_fraction": _ratio(_max_drawdown(daily), bankroll),
        "win_rate": round(sum(1 for o in orders.values() if o > 0) / len(orders), 4) if orders else None,
        "clv_per_contract": _clv(done),
        "expected_pnl_dollars": None,
        "kelly_effectiveness": None,
    }
    expected = [f.fill.count * f.fill.expected_value for f in done if f.fill.expected_value is not None]
    if expected and len(expected) == len(done):
        figures["expected_pnl_dollars"] = _money(sum(expected, ZERO))
        figures["kelly_effectiveness"] = _ratio(pnl, sum(expected, ZERO))
    figures.update(_calibration(done))
    return figures


def _orders(fills: Iterable[SettledFill]) -> dict[str, Decimal]:
    """P&L per order (its fills together)."""
    orders: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for settled in fills:
        orders[settled.fill.client_order_id] += settled.pnl or ZERO
    return orders


def _daily(fills: Sequence[SettledFill], days: Sequence[date]) -> list[float]:
    by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for settled in fills:
        by_day[settled.target_date] += settled.pnl or ZERO
    return [float(by_day.get(day, ZERO)) for day in days]


def _sharpe(daily: Sequence[float], bankroll: Decimal) -> float | None:
    """Annualised Sharpe ratio of daily returns on the starting bankroll (every day of the range counts)."""
    if len(daily) < 2:
        return None
    returns = np.array(daily) / float(bankroll)
    deviation = float(returns.std(ddof=1))
    return round(float(returns.mean()) / deviation * math.sqrt(365), 3) if deviation > 0 else None


def _max_drawdown(daily: Sequence[float]) -> Decimal:
    """The largest fall of cumulative P&L from its previous peak, in dollars."""
    if not daily:
        return ZERO
    curve = np.concatenate([[0.0], np.cumsum(daily)])
    return Decimal(repr(round(float((np.maximum.accumulate(curve) - curve).max()), 2)))


def _bootstrap(fills: Sequence[SettledFill], days: Sequence[date]) -> tuple[list[float | None], list[float | None]]:
    """95% intervals of (P&L, ROI), resampling the range's days with replacement."""
    if not fills or not days:
        return [None, None], [None, None]
    index = {day: i for i, day in enumerate(days)}
    pnl, cost = np.zeros(len(days)), np.zeros(len(days))
    for settled in fills:
        i = index.get(settled.target_date)
        if i is not None:
            pnl[i] += float(settled.pnl or ZERO)
            cost[i] += float(settled.cost)
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(days), size=(BOOTSTRAP_SAMPLES, len(days)))
    pnl_totals, cost_totals = pnl[picks].sum(axis=1), cost[picks].sum(axis=1)
    rois = np.divide(pnl_totals, cost_totals, out=np.zeros_like(pnl_totals), where=cost_totals > 0)
    low_pnl, high_pnl = np.percentile(pnl_totals, [2.5, 97.5])
    low_roi, high_roi = np.percentile(rois, [2.5, 97.5])
    return [round(float(low_pnl), 2), round(float(low_roi), 4)], [round(float(high_pnl), 2), round(float(high_roi), 4)]


def _clv(fills: Sequence[SettledFill]) -> float | None:
    """Closing-line value: the closing price minus the price paid, per contract (positive: bought cheap)."""
    pairs = [(f.closing_price - f.fill.price, f.fill.count) for f in fills if f.closing_price is not None]
    contracts = sum((count for _, count in pairs), ZERO)
    if not contracts:
        return None
    return round(float(sum((value * count for value, count in pairs), ZERO) / contracts), 4)


def _calibration(fills: Sequence[SettledFill]) -> dict[str, float | int | None]:
    """Brier and log loss of model and market on the markets traded (each market and decision once)."""
    seen: dict[tuple[str, datetime], SettledFill] = {}
    for settled in fills:
        seen.setdefault((settled.fill.ticker, settled.fill.decided_at), settled)
    scored = [s for s in seen.values() if s.model_yes is not None and s.market_yes is not None and s.won is not None]
    result: dict[str, float | int | None] = {"n_scored_markets": len(scored)}
    outcomes = [float(s.won is (s.fill.bought is Side.YES)) for s in scored]  # 1.0 when YES won
    for name in ("model", "market"):
        pairs = [(float(getattr(s, f"{name}_yes")), y) for s, y in zip(scored, outcomes, strict=True)]
        result[f"brier_{name}"] = round(sum((p - y) ** 2 for p, y in pairs) / len(pairs), 5) if pairs else None
        result[f"log_loss_{name}"] = round(sum(_log_loss(p, y) for p, y in pairs) / len(pairs), 5) if pairs else None
    return result


def _log_loss(p: float, y: float) -> float:
    p = min(max(p, EPSILON), 1 - EPSILON)
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def risk_refusals(decisions: Sequence[DecisionRecord]) -> dict[str, dict[str, Any]]:
    """Per strategy: how often each risk rule refused a proposal, and when each first did."""
    found: dict[str, dict[str, Any]] = {}
    for decision in decisions:
        for refused in decision.passes:
            for rule in refused.rules:
                entry = found.setdefault(decision.strategy, {}).setdefault(
                    str(rule), {"refused": 0, "first": decision.at.isoformat()}
                )
                entry["refused"] += 1
    return found


def calibration(decisions: Sequence[DecisionRecord], history: History) -> dict[str, Any]:
    """Reliability of the model's and the market's probabilities at every decision with both and a known result."""
    payouts = {m.ticker: m.payout for e in history.events for m in e.markets}
    forecasts: dict[str, list[list[float]]] = {"model": [], "market": []}
    truth: list[list[int]] = []
    seen: set[tuple[str, str]] = set()
    for decision in decisions:
        markets = decision.markets
        if (decision.label, decision.event_ticker) in seen or any(
            m.probability is None or m.market_probability is None or payouts.get(m.ticker) is None for m in markets
        ):
            continue
        seen.add((decision.label, decision.event_ticker))
        forecasts["model"].append([float(m.probability or 0) for m in markets])
        forecasts["market"].append([float(m.market_probability or 0) for m in markets])
        truth.append([int(payouts[m.ticker] == ONE) for m in markets])
    if not truth:
        return {"n_events": 0}
    return {
        "n_events": len(truth),
        **{name: [asdict(b) for b in reliability_table(f, truth)] for name, f in forecasts.items()},
    }


def coverage(decisions: Sequence[DecisionRecord], *, max_data_age: timedelta | None) -> dict[str, dict[str, Any]]:
    """Per decision time: events and markets decided, how many had prices, fresh quotes and a model forecast."""
    rows: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for decision in decisions:
        if (decision.label, decision.event_ticker) in seen:
            continue  # one row per event and decision time, whatever the strategy
        seen.add((decision.label, decision.event_ticker))
        row = rows.setdefault(
            decision.label,
            {"events": 0, "events_fully_priced": 0, "events_with_model": 0, "markets": 0, "markets_priced": 0,
             "markets_fresh_quotes": 0},
        )  # fmt: skip
        priced = [m for m in decision.markets if m.quote.last_price is not None]
        row["events"] += 1
        row["markets"] += len(decision.markets)
        row["markets_priced"] += len(priced)
        row["events_fully_priced"] += len(priced) == len(decision.markets)
        row["events_with_model"] += all(m.probability is not None for m in decision.markets)
        row["markets_fresh_quotes"] += sum(1 for m in decision.markets if _fresh(m.quote, decision.at, max_data_age))
    for row in rows.values():
        row["share_markets_priced"] = round(row["markets_priced"] / row["markets"], 4) if row["markets"] else None
    return dict(sorted(rows.items()))


def _fresh(quote: Any, at: datetime, max_age: timedelta | None) -> bool:
    if quote.bid_at is None or quote.ask_at is None:
        return False
    return max_age is None or (at - quote.bid_at <= max_age and at - quote.ask_at <= max_age)


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    return round(float(numerator / denominator), 4) if denominator else None
