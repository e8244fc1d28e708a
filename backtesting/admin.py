from __future__ import annotations

from django.contrib import admin

from backtesting.models import BacktestRun
from kalshiweb.admin import ReadOnlyAdmin


@admin.register(BacktestRun)
class BacktestRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "start_date", "end_date", "created_at", "finished_at"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
