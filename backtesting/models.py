"""Backtest runs: what was asked, the summary, the equity curve and the trades that came back.

A backtest's orders and fills live in memory while it runs and are stored
here afterwards, apart from the live ledger (trading.models), which never
holds simulated rows. The walk-forward model forecasts a backtest trades on
are kept too, keyed by what they were computed from (backtesting.forecasts).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from markets.fields import count_field, dollars_field, price_field
from markets.models import Side


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
    strategy = models.CharField(max_length=128, blank=True, help_text="The strategy, or several, comma-separated.")
    fill_model = models.CharField(max_length=16, blank=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="n_trades, pnl_dollars, roi, brier_model, ...")
    equity_curve = models.JSONField(
        default=list, blank=True, help_text='[["2025-01-02T15:00:00+00:00", "1000.00"], ...]'
    )
    error = models.TextField(blank=True)
    # Progress of a run started from the dashboard or the API, written by its task a few times a second at most.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0, help_text="0 while the current step's size is unknown.")
    progress_message = models.CharField(max_length=255, blank=True, help_text="The step the run is on.")
    requested_by = models.CharField(max_length=150, blank=True, help_text="Who started it (empty: a command).")
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

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def progress_percent(self) -> int:
        """The current step's share done, 0-100 (100 once the run has finished)."""
        if self.finished:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    def clean(self) -> None:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValidationError({"end_date": "The end date must not be before the start date."})


class BacktestTrade(models.Model):
    """One fill of a backtest's order, with the decision behind it and how it settled."""

    run = models.ForeignKey(BacktestRun, on_delete=models.CASCADE, related_name="trades")
    client_order_id = models.CharField(max_length=64)
    strategy = models.CharField(max_length=32)
    series_ticker = models.CharField(max_length=32)
    event_ticker = models.CharField(max_length=64)
    ticker = models.CharField(max_length=64)
    side = models.CharField(max_length=3, choices=Side.choices, help_text="The side bought.")
    count = count_field()
    price = price_field(help_text="Price of the side bought, in dollars.")
    fee = dollars_field()
    taker = models.BooleanField()
    decided_at = models.DateTimeField()
    filled_at = models.DateTimeField()
    probability = models.FloatField(null=True, blank=True, help_text="The probability the order was sized on.")
    model_probability = models.FloatField(null=True, blank=True)
    market_probability = models.FloatField(null=True, blank=True)
    expected_value = dollars_field(null=True, blank=True, help_text="Per contract after fees, at the decision.")
    payout = price_field(null=True, blank=True, help_text="What each contract paid at settlement, in dollars.")
    pnl = dollars_field("P&L", null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "filled_at", "id"]
        indexes = [models.Index(fields=["run", "filled_at"], name="backtest_trade_run_time")]

    def __str__(self) -> str:
        return f"{self.count} {self.side.upper()} {self.ticker} @ {self.price}"


class ForecastSet(models.Model):
    """The walk-forward model's probabilities for one series at one decision time over a date range."""

    series = models.CharField(max_length=32)
    decision = models.CharField(max_length=16, help_text="'10:00', or '18:00-1' for the evening before.")
    start = models.DateField()
    end = models.DateField()
    fingerprint = models.CharField(max_length=64, help_text="Digest of the code and data they were computed from.")
    payload = models.JSONField(default=dict)
    n_events = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "decision", "start", "end", "fingerprint"], name="forecast_set_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.decision} {self.start}..{self.end} ({self.n_events} events)"
