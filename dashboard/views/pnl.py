"""Equity and balance over time, realised P&L by day, week and month, by city and by strategy (trading.pnl)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from trading import pnl as history

DAYS_LISTED = 31  # the daily table's newest days; the bar chart has them all


@staff_member_required
@never_cache
def pnl(request: HttpRequest) -> HttpResponse:
    """The configured mode's P&L; an htmx request (a fill or settlement arrived) gets the body alone."""
    report = history.report(settings.TRADING_MODE)
    context = {
        "report": report,
        "recent_days": report.days[::-1][:DAYS_LISTED],
        "days_listed": DAYS_LISTED,
        "day_name": history.DAY_NAME,
        "chart": _chart(report),
    }
    template = "dashboard/pnl_body.html" if request.headers.get("HX-Request") else "dashboard/pnl.html"
    return render(request, template, context)


def _chart(report: history.PnlReport) -> dict[str, Any]:
    """The charts' data, money as exact decimal strings: the ledger's equity, the cycles' balances, daily P&L."""
    ledger = {p.day.isoformat(): str(p.equity) for p in report.curve}
    cash = {p.day.isoformat(): str(p.cash) for p in report.balances}
    recorded = {p.day.isoformat(): str(p.equity) for p in report.balances}
    days = sorted(set(ledger) | set(cash))  # a category axis of ISO dates (no date adapter is installed)
    return {
        "days": days,
        "ledger_equity": [ledger.get(d) for d in days],
        "cycle_cash": [cash.get(d) for d in days],
        "cycle_equity": [recorded.get(d) for d in days],
        "pnl_days": [d.label for d in report.days],
        "pnl": [str(d.total) for d in report.days],
    }
