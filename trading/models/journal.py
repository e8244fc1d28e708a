"""What the trading system did and why: each trading cycle, the decision on every market, each reconciliation."""

from __future__ import annotations

from django.db import models

from markets.fields import count_field, dollars_field, price_field
from trading.models.orders import MODE_CHOICES


class TradingCycle(models.Model):
    """One pass of the trading pipeline: snapshot, decision, orders."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    strategy = models.CharField(max_length=32)
    as_of = models.DateTimeField(help_text="The decision time: the clock the cycle was given.")
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    events = models.PositiveIntegerField(default=0)
    markets = models.PositiveIntegerField(default=0)
    intents = models.PositiveIntegerField(default=0)
    placed = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0, help_text="Queued for manual approval.")
    cancelled = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True, help_text="Why it was skipped or failed; what went wrong.")
    # The account as the cycle left it: the equity history the P&L page draws (null before it was recorded,
    # and for cycles that stopped before deciding).
    cash = dollars_field(null=True, blank=True, help_text="The mode's cash when the cycle finished.")
    equity = dollars_field(null=True, blank=True, help_text="Cash plus open positions at cost when it finished.")

    class Meta:
        ordering = ["-as_of"]
        indexes = [
            models.Index(fields=["mode", "as_of"], name="cycle_mode_as_of"),  # a mode's latest cycle
            models.Index(fields=["as_of", "id"], name="cycle_as_of_id"),  # the API's list, newest first
        ]
        constraints = [
            models.UniqueConstraint(fields=["mode", "strategy", "as_of"], name="cycle_unique_per_decision_time")
        ]

    def __str__(self) -> str:
        return f"[{self.mode}] {self.strategy} at {self.as_of:%Y-%m-%d %H:%M}Z: {self.outcome}"


class DecisionLogEntry(models.Model):
    """What one cycle decided about one market: what we believed, what the market said, and the verdict."""

    class Verdict(models.TextChoices):
        ORDERED = "ordered", "Order sent"
        QUEUED = "queued", "Queued for approval"
        REFUSED = "refused", "Refused by risk"
        BLOCKED = "blocked", "Blocked (exchange error or unknown order)"
        PASSED = "passed", "Passed"

    cycle = models.ForeignKey(TradingCycle, on_delete=models.CASCADE, related_name="decisions")
    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    at = models.DateTimeField()
    strategy = models.CharField(max_length=32)
    event_ticker = models.CharField(max_length=64)
    ticker = models.CharField(max_length=64, db_index=True)
    probability = models.FloatField(null=True, blank=True, help_text="The model's P(YES).")
    market_probability = models.FloatField(null=True, blank=True)
    yes_bid = price_field(null=True, blank=True)
    yes_ask = price_field(null=True, blank=True)
    side = models.CharField(max_length=3, blank=True, help_text="The side an order would buy.")
    price = price_field(null=True, blank=True, help_text="Price of the side bought.")
    edge = price_field(null=True, blank=True, help_text="Expected value per contract after fees ($).")
    size = count_field(null=True, blank=True)
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    rules = models.JSONField(default=list, blank=True, help_text="Risk rules that refused or reduced it.")
    client_order_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "ticker"]
        verbose_name_plural = "decision log"
        indexes = [
            models.Index(fields=["mode", "at"], name="decision_mode_at"),
            # The decision log page's usual filter: orders sent, or refused by risk, are a few rows among millions.
            models.Index(fields=["mode", "verdict", "at"], name="decision_mode_verdict_at"),
            # The API's list in its order: without it, every page sorts the whole log.
            models.Index(fields=["-at", "ticker", "-id"], name="decision_at_ticker_id"),
            # A city's (or an event's) decisions: the log keeps event tickers, and the (mode, at) index could only
            # walk the whole log looking for them (30 s on a year's log for a city with none).
            models.Index(fields=["mode", "event_ticker", "at"], name="decision_mode_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}Z {self.ticker}: {self.verdict}"

    @property
    def tone(self) -> str:
        """The verdict's colour on the dashboard's pills: an order sent is good news, a refusal or a block is
        bad, the rest (passed, queued) are worth a look."""
        return _VERDICT_TONES.get(self.verdict, "warn")


_VERDICT_TONES: dict[str, str] = {
    DecisionLogEntry.Verdict.ORDERED: "ok",
    DecisionLogEntry.Verdict.REFUSED: "fail",
    DecisionLogEntry.Verdict.BLOCKED: "fail",
}


class Reconciliation(models.Model):
    """One comparison of our ledger with the exchange's, and whether it could finish."""

    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    complete = models.BooleanField(default=False, help_text="False while any order's outcome is still unknown.")
    orders_checked = models.PositiveIntegerField(default=0)
    fills_checked = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    unresolved = models.PositiveIntegerField(default=0)
    balance = dollars_field(null=True, blank=True, help_text="The exchange's balance.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return f"[{self.mode}] {self.started_at:%Y-%m-%d %H:%M}Z: {self.differences} differences, {state}"


class Difference(models.Model):
    """One way our ledger differed from the exchange's, and what was done about it."""

    class Kind(models.TextChoices):
        ORDER_MISSING = "order_missing", "Order at the exchange, not in our ledger"
        ORDER_STATE = "order_state", "Order state differs"
        ORDER_RESOLVED = "order_resolved", "Unknown outcome resolved"
        ORDER_NOT_PLACED = "order_not_placed", "Order never reached the exchange"
        FILL_MISSING = "fill_missing", "Fill missing from our ledger"
        FILL_FEE = "fill_fee", "Fill fee differs"
        POSITION = "position", "Position differs"
        BALANCE = "balance", "Balance differs"
        SETTLEMENT_MISSING = "settlement_missing", "Settlement missing from our ledger"

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="found")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ticker = models.CharField(max_length=64, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="Order, trade or market it concerns.")
    ours = models.TextField(blank=True)
    theirs = models.TextField(blank=True)
    fix = models.TextField(help_text="What was changed in our ledger.")

    class Meta:
        ordering = ["reconciliation", "kind", "ticker"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reference or self.ticker}"
