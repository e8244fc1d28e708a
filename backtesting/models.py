"""Backtest runs: what was asked, and the summary that came back.

Fills of a backtest stay in memory; only the summary is stored, so the live
ledger never holds simulated rows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class BacktestRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    start_date = models.DateField()
    end_date = models.DateField()
    series = models.JSONField(default=list, blank=True, help_text="Series tickers; empty means all imported.")
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="n_trades, pnl_dollars, roi, brier_model, ...")
    error = models.TextField(blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")), name="backtest_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"Backtest {self.pk} {self.start_date}..{self.end_date} [{self.status}]"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValidationError({"end_date": "The end date must not be before the start date."})
