"""The ledger: accounts, orders, fills, positions and settlements, each keyed by the market and the mode.

Every row carries the trading mode it belongs to, so paper (DRY), demo and
live books never mix. Orders and fills are in Kalshi's V2 terms: a side of
the one YES book (``bid`` buys YES, ``ask`` sells YES, which buys NO) and a
YES-book price. Times on ledger rows come from the clock the caller passes
(never ``auto_now``), so a replayed day and a test write the times they mean.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from kalshiweb.modes import TradingMode
from markets.fields import count_field, dollars_field, price_field
from markets.models import Market
from markets.schemas.enums import BookSide, Side, TimeInForce
from trading.decisions import yes_price
from trading.ledger import Position as PositionState

MODE_CHOICES = [(mode.value, mode.value) for mode in TradingMode]
BOOK_SIDE_CHOICES = [(side.value, side.value) for side in BookSide]
TIME_IN_FORCE_CHOICES = [(tif.value, tif.value.replace("_", " ")) for tif in TimeInForce]
ZERO = Decimal(0)


class Account(models.Model):
    """One trading mode's account: its cash and the peak equity the drawdown limit is measured from.

    The row is also the lock that makes risk reservation atomic: placing an
    order locks its mode's account for the check and the reservation together.
    """

    mode = models.CharField(max_length=4, choices=MODE_CHOICES, unique=True)
    cash = dollars_field(default=ZERO, help_text="Balance, including what resting orders reserve.")
    peak_equity = dollars_field(default=ZERO)
    consecutive_errors = models.PositiveIntegerField(
        default=0, help_text="Exchange errors since the last success; too many trip the kill switch."
    )
    order_group_id = models.CharField(
        max_length=64, blank=True, help_text="LIVE: the exchange-side order group whose limit backstops ours."
    )
    balance_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last compared with the exchange.")
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"[{self.mode}] ${self.cash:,.2f}"


class OnTheYesBook:
    """What an order or a fill buys, read from its V2 book side and YES-book price."""

    book_side: str
    price: Decimal

    @property
    def buys(self) -> Side:
        return Side.YES if self.book_side == BookSide.BID else Side.NO

    @property
    def own_price(self) -> Decimal:
        """The price of the side bought (an ask at 0.93 buys NO at 0.07)."""
        return yes_price(self.buys, self.price)


class OrderQuerySet(models.QuerySet["Order"]):
    def of_mode(self, mode: str) -> OrderQuerySet:
        return self.filter(mode=mode)

    def working(self) -> OrderQuerySet:
        """Orders that may still fill: resting, or sent and not yet answered."""
        return self.filter(status__in=Order.WORKING)

    def unresolved(self) -> OrderQuerySet:
        """Orders whose outcome at the exchange is unknown: each blocks its market."""
        return self.filter(status=Order.Status.UNKNOWN)


class Order(OnTheYesBook, models.Model):
    """An order we decided to place, from intent to its final state at the exchange.

    ``client_order_id`` is deterministic per intent and unique, so re-sending
    after a timeout can never create a second order. An order whose outcome is
    unknown (status UNKNOWN) blocks new orders on its market until
    reconciliation resolves it; it is never treated as rejected.
    """

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "approval", "Awaiting approval"
        PENDING = "pending", "Sending"
        RESTING = "resting", "Resting"
        EXECUTED = "executed", "Executed"
        CANCELED = "canceled", "Canceled"
        REJECTED = "rejected", "Rejected"
        UNKNOWN = "unknown", "Unknown (awaiting reconciliation)"

    WORKING = (Status.PENDING, Status.RESTING, Status.UNKNOWN)
    FINAL = (Status.EXECUTED, Status.CANCELED, Status.REJECTED)

    client_order_id = models.CharField(max_length=64, unique=True)
    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    ticker = models.CharField(max_length=64, db_index=True)
    event_ticker = models.CharField(max_length=64, blank=True)
    book_side = models.CharField(max_length=3, choices=BOOK_SIDE_CHOICES, help_text="bid buys YES; ask buys NO.")
    price = price_field(help_text="YES-book price in dollars (an ask at 0.93 buys NO at 0.07).")
    count = count_field()
    time_in_force = models.CharField(max_length=24, choices=TIME_IN_FORCE_CHOICES)
    post_only = models.BooleanField(default=False)
    reduce_only = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    exchange_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    order_group_id = models.CharField(max_length=64, blank=True)
    filled_count = count_field(default=ZERO)
    remaining_count = count_field(default=ZERO)
    fees = dollars_field(default=ZERO)
    strategy = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was placed; then why rejected, canceled or unknown.")
    decision = models.JSONField(default=dict, blank=True, help_text="Probability, edge and sizing behind it.")
    # The paper broker's view of the queue: contracts ahead of it at its price, and trades read so far.
    queue_ahead = count_field(null=True, blank=True)
    trades_read_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["mode", "status"], name="order_mode_status"),
            models.Index(fields=["mode", "ticker", "status"], name="order_mode_ticker_status"),
            models.Index(fields=["created_at", "id"], name="order_created_at_id"),  # the API's list, newest first
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gt=0), name="order_count_positive"),
            models.CheckConstraint(condition=models.Q(price__gt=0, price__lt=1), name="order_price_inside_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.buys.value.upper()} {self.count:g} {self.ticker} @ ${self.own_price:.2f} [{self.status}]"

    @property
    def is_working(self) -> bool:
        return self.status in self.WORKING


class Fill(OnTheYesBook, models.Model):
    """One execution of one of our orders, with the fee actually charged for it.

    Keyed by the trade id (the WebSocket fill channel's only identifier; REST
    gives the same trade id beside its fill id), so the feed, a REST recovery
    after a gap and reconciliation all find a fill already stored.
    """

    trade_id = models.CharField(max_length=64)
    fill_id = models.CharField(max_length=64, blank=True, help_text="Kalshi's fill id, when REST told us.")
    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="fills")
    exchange_order_id = models.CharField(max_length=64, blank=True)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, null=True, blank=True, related_name="fills")
    ticker = models.CharField(max_length=64, db_index=True)
    book_side = models.CharField(max_length=3, choices=BOOK_SIDE_CHOICES)
    price = price_field(help_text="YES-book price in dollars.")
    count = count_field()
    fee = dollars_field(default=ZERO)
    fee_known = models.BooleanField(default=True, help_text="False while Kalshi has not told us the fee.")
    realized_pnl = dollars_field(default=ZERO, help_text="P&L this fill realised (closing pairs), after its fee.")
    is_taker = models.BooleanField()
    created_time = models.DateTimeField(help_text="Execution time at the venue.")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_time"]
        indexes = [
            models.Index(fields=["mode", "created_time"], name="fill_mode_created_time"),  # a mode's newest
            # A market's last fill (the P&L's strategy that held it): without it SQLite walks the one above, every
            # fill of the mode for each settlement.
            models.Index(fields=["mode", "ticker", "created_time"], name="fill_mode_ticker_time"),
            models.Index(fields=["created_time", "id"], name="fill_created_time_id"),  # the API's list, newest first
        ]
        constraints = [models.UniqueConstraint(fields=["mode", "trade_id"], name="fill_unique_trade_per_mode")]

    def __str__(self) -> str:
        return f"{self.trade_id}: {self.buys.value.upper()} {self.count:g} {self.ticker} @ ${self.own_price:.2f}"


class Position(models.Model):
    """Contracts held in one market, YES netted against NO as Kalshi does; built from our fills."""

    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, null=True, blank=True, related_name="positions")
    ticker = models.CharField(max_length=64)
    yes_count = count_field(default=ZERO)
    no_count = count_field(default=ZERO)
    total_cost = dollars_field(default=ZERO, help_text="What the open contracts cost, before fees.")
    realized_pnl = dollars_field(default=ZERO, help_text="After fees.")
    fees_paid = dollars_field(default=ZERO)
    settled = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["mode", "ticker"]
        constraints = [models.UniqueConstraint(fields=["mode", "ticker"], name="position_unique_per_mode")]

    def __str__(self) -> str:
        return f"[{self.mode}] {self.ticker}: {self.contracts:g}"

    @property
    def contracts(self) -> Decimal:
        """Kalshi's signed position: positive YES, negative NO."""
        signed: Decimal = self.yes_count - self.no_count
        return signed

    def state(self) -> PositionState:
        return PositionState(self.yes_count, self.no_count, self.total_cost, self.realized_pnl, self.fees_paid)

    def take(self, state: PositionState) -> None:
        self.yes_count, self.no_count, self.total_cost = state.yes, state.no, state.cost
        self.realized_pnl, self.fees_paid = state.realized, state.fees


class Settlement(models.Model):
    """How a market we held settled, and what it paid."""

    mode = models.CharField(max_length=4, choices=MODE_CHOICES)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, null=True, blank=True, related_name="settlements")
    ticker = models.CharField(max_length=64)
    result = models.CharField(max_length=8, choices=Market.Result.choices)
    yes_count = count_field(default=ZERO)
    no_count = count_field(default=ZERO)
    cost = dollars_field(default=ZERO)
    revenue = dollars_field(default=ZERO)
    fees = dollars_field(default=ZERO)
    settled_time = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-settled_time"]
        # A mode's newest settlements (the postmortem list).
        indexes = [models.Index(fields=["mode", "settled_time"], name="settlement_mode_settled_time")]
        constraints = [models.UniqueConstraint(fields=["mode", "ticker"], name="settlement_unique_per_mode")]

    def __str__(self) -> str:
        return f"[{self.mode}] {self.ticker} → {self.result}: ${self.revenue:,.2f}"

    @property
    def pnl(self) -> Decimal:
        pnl: Decimal = self.revenue - self.cost - self.fees
        return pnl
