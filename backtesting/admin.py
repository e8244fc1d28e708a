from __future__ import annotations

from django.contrib import admin

from backtesting.models import BacktestRun, BacktestTrade
from backtesting.report import dollars, percent
from kalshiweb.admin import ReadOnlyAdmin


@admin.register(BacktestRun)
class BacktestRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "strategy", "start_date", "end_date", "pnl", "roi", "trades", "finished_at"]
    list_filter = ["status", "strategy"]
    date_hierarchy = "created_at"

    @admin.display(description="P&L after fees")
    def pnl(self, run: BacktestRun) -> str:
        return dollars(run.metrics.get("pnl_dollars")) if run.metrics else ""

    @admin.display(description="ROI")
    def roi(self, run: BacktestRun) -> str:
        return percent(run.metrics.get("roi")) if run.metrics else ""

    @admin.display(description="orders")
    def trades(self, run: BacktestRun) -> str:
        return f"{run.metrics.get('n_trades', 0):,}" if run.metrics else ""


@admin.register(BacktestTrade)
class BacktestTradeAdmin(ReadOnlyAdmin):
    list_display = ["run", "strategy", "ticker", "side", "count", "price", "fee", "decided_at", "filled_at", "pnl"]
    list_filter = ["strategy", "series_ticker", "side", "taker"]
    search_fields = ["ticker", "event_ticker"]
    list_select_related = ["run"]
