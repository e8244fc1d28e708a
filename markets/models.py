"""Kalshi's market structure (series → events → markets), the public tape, books, and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import models
from encrypted_model_fields.fields import EncryptedTextField

from kalshiweb.masking import mask_tail
from kalshiweb.modes import KalshiEnvironment
from markets.brackets import Bracket, bracket_of, brackets_from_tickers
from markets.fields import count_field, price_field, strike_field
from weather.models import City


class Side(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"


class Series(models.Model):
    """A Kalshi series, e.g. KXHIGHNY, with the fee schedule its markets trade under."""

    class FeeType(models.TextChoices):
        QUADRATIC = "quadratic", "Quadratic (taker fees only)"
        QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees", "Quadratic with maker fees"
        FLAT = "flat", "Flat"

    class Measure(models.TextChoices):
        HIGH = "high", "Daily high"
        LOW = "low", "Daily low"
        OTHER = "other", "Other"

    ticker = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=64, blank=True)
    frequency = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=list, blank=True)
    settlement_sources = models.JSONField(default=list, blank=True, help_text="[{name, url}] as Kalshi lists them.")
    contract_url = models.URLField(max_length=500, blank=True)
    fee_type = models.CharField(max_length=32, choices=FeeType.choices, default=FeeType.QUADRATIC)
    fee_multiplier = models.DecimalField(max_digits=8, decimal_places=4, default=1)
    city = models.ForeignKey(City, on_delete=models.SET_NULL, null=True, blank=True, related_name="series")
    measure = models.CharField(max_length=8, choices=Measure.choices, default=Measure.OTHER)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="Last refreshed from the API.")

    class Meta:
        verbose_name_plural = "series"
        ordering = ["ticker"]

    def __str__(self) -> str:
        return self.ticker


class Event(models.Model):
    """One climate day of one series, e.g. KXHIGHNY-25FEB28, holding its bracket markets."""

    event_ticker = models.CharField(max_length=64, unique=True)
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="events")
    title = models.CharField(max_length=255, blank=True)
    sub_title = models.CharField(max_length=255, blank=True)
    target_date = models.DateField(null=True, blank=True, help_text="The climate day, from the ticker's YYMONDD.")
    strike_date = models.DateTimeField(null=True, blank=True)
    mutually_exclusive = models.BooleanField(default=True)
    collateral_return_type = models.CharField(max_length=32, blank=True)
    fee_type_override = models.CharField(
        max_length=40, blank=True, help_text="Kalshi's fee type for this event's markets, over the series' one."
    )
    fee_multiplier_override = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Settlement truth: the observed high (final climate report, or for history the NWS
    # climate database / GHCN-Daily, see weather.services.truth) against what Kalshi settled on.
    observed_high_f = models.DecimalField("observed high (°F)", max_digits=5, decimal_places=1, null=True, blank=True)
    observed_high_source = models.CharField(max_length=24, blank=True)
    settled_high_f = models.DecimalField(
        "Kalshi settled high (°F)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    settlement_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-target_date", "event_ticker"]
        indexes = [models.Index(fields=["series", "target_date"], name="event_series_date")]

    def __str__(self) -> str:
        return self.event_ticker

    def brackets(self) -> dict[str, Bracket]:
        """Each market's bracket by ticker (use with prefetched markets); BracketError if one cannot be read.

        From strikes or subtitles where the payload had them; markets imported
        without either (some settled-market downloads) are read from the
        event's tickers.
        """
        markets = list(self.markets.all())
        bare = [m for m in markets if not (m.strike_type or m.subtitle or m.yes_sub_title)]
        from_tickers = brackets_from_tickers([m.ticker for m in markets]) if bare else {}
        return {m.ticker: from_tickers[m.ticker] if m in bare else m.bracket() for m in markets}

    @property
    def settlement_disagrees(self) -> bool:
        """True when both values are known and differ (Kalshi settles on the CLI, so they should not)."""
        known = self.observed_high_f is not None and self.settled_high_f is not None
        return known and self.observed_high_f != self.settled_high_f


class MarketQuerySet(models.QuerySet["Market"]):
    def open(self) -> MarketQuerySet:
        return self.filter(status=Market.Status.ACTIVE)

    def settled(self) -> MarketQuerySet:
        return self.exclude(result="")


class Market(models.Model):
    """One binary bracket, e.g. KXHIGHNY-25FEB28-B44.5 (44 to 45 °F).

    The bracket comes from ``strike_type`` and the strikes: ``between`` is
    inclusive of both integer strikes, ``less`` and ``greater`` tails exclude
    theirs. Prices are Decimal dollars as parsed at the client edge.
    """

    class Status(models.TextChoices):
        INITIALIZED = "initialized"
        INACTIVE = "inactive"
        ACTIVE = "active"
        CLOSED = "closed"
        DETERMINED = "determined"
        DISPUTED = "disputed"
        AMENDED = "amended"
        FINALIZED = "finalized"
        SETTLED = "settled", "settled (legacy)"

    class StrikeType(models.TextChoices):
        LESS = "less"
        LESS_OR_EQUAL = "less_or_equal"
        BETWEEN = "between"
        GREATER = "greater"
        GREATER_OR_EQUAL = "greater_or_equal"
        FUNCTIONAL = "functional"
        CUSTOM = "custom"
        STRUCTURED = "structured"

    class Result(models.TextChoices):
        UNDETERMINED = "", "undetermined"
        YES = "yes"
        NO = "no"
        SCALAR = "scalar"
        VOID = "void"

    ticker = models.CharField(max_length=64, unique=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="markets")
    market_type = models.CharField(max_length=16, default="binary")
    title = models.CharField(max_length=255, blank=True)
    subtitle = models.CharField(max_length=255, blank=True)
    yes_sub_title = models.CharField(max_length=255, blank=True)
    no_sub_title = models.CharField(max_length=255, blank=True)
    strike_type = models.CharField(max_length=20, choices=StrikeType.choices, blank=True)
    floor_strike = strike_field()
    cap_strike = strike_field()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIALIZED)
    open_time = models.DateTimeField(null=True, blank=True)
    close_time = models.DateTimeField(null=True, blank=True)
    expected_expiration_time = models.DateTimeField(null=True, blank=True)
    expiration_time = models.DateTimeField(null=True, blank=True)
    latest_expiration_time = models.DateTimeField(null=True, blank=True)
    settlement_timer_seconds = models.PositiveIntegerField(null=True, blank=True)
    can_close_early = models.BooleanField(default=False)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True, default=Result.UNDETERMINED)
    expiration_value = models.TextField(
        blank=True,
        help_text="What the market settled on, as Kalshi reports it: usually °F ('50.00'), sometimes an explanation.",
    )
    settlement_value = price_field("settlement value ($ per YES contract)", null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    fee_waiver_expiration_time = models.DateTimeField(null=True, blank=True, help_text="Trades are free until then.")
    price_level_structure = models.CharField(max_length=32, blank=True)
    fractional_trading_enabled = models.BooleanField(default=False)
    yes_bid = price_field(null=True, blank=True)
    yes_ask = price_field(null=True, blank=True)
    last_price = price_field(null=True, blank=True)
    volume = count_field(null=True, blank=True)
    open_interest = count_field(null=True, blank=True)
    rules_primary = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = MarketQuerySet.as_manager()

    class Meta:
        ordering = ["event", "floor_strike", "ticker"]
        indexes = [
            models.Index(fields=["status", "close_time"], name="market_status_close"),
            # Open markets are found by close time alone (trading.snapshot): without it, every cycle and the
            # markets page scanned every market ever imported.
            models.Index(fields=["close_time"], name="market_close_time"),
            models.Index(fields=["synced_at"], name="market_synced_at"),  # the health check's newest sync
        ]

    def __str__(self) -> str:
        return self.ticker

    def bracket(self) -> Bracket:
        """The winning values, from strikes or the subtitle (see markets.brackets); BracketError if neither reads."""
        return bracket_of(
            strike_type=self.strike_type or None,
            floor=self.floor_strike,
            cap=self.cap_strike,
            subtitle=self.subtitle or self.yes_sub_title or None,
        )


class Trade(models.Model):
    """One print on Kalshi's public trade tape.

    The tape runs to millions of rows and is imported a million at a time, so
    the table has one index, its primary key (market, trade id): it makes
    imports idempotent and serves "trades of these markets up to T" (a market
    has at most a few thousand prints, sorted in memory). One index instead of
    two, clustered by market, made PostgreSQL's COPY 2.5x faster (measured, see
    markets.history.tape). The trade id is byte-collated on PostgreSQL.

    Composite primary keys cannot be registered in Django's admin (5.2): a
    market's admin page lists its latest prints instead.
    """

    pk = models.CompositePrimaryKey("market", "trade_id")
    # No database-level foreign key: PostgreSQL checks one per row in a trigger, which doubled
    # the import time. Markets are deleted only through the ORM, which cascades here itself,
    # and every importer resolves market ids from the markets table before writing.
    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, related_name="trades", db_index=False, db_constraint=False
    )
    trade_id = models.CharField(max_length=64)
    count = count_field()
    yes_price = price_field()
    no_price = price_field()
    taker_side = models.CharField(max_length=3, choices=Side.choices)
    created_time = models.DateTimeField()

    class Meta:
        ordering = ["market", "created_time"]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.count}@{self.yes_price}"


class OrderBookSnapshotQuerySet(models.QuerySet["OrderBookSnapshot"]):
    def newest_per_market(self, market_ids: Sequence[int], now: datetime) -> OrderBookSnapshotQuerySet:
        """Each market's newest book captured by ``now``: one row per market, each found through the
        (market, captured_at) index, instead of reading every snapshot of the markets to keep one.

        In no order: the default order joins the market and its event to sort rows its callers key by market."""
        newest = OrderBookSnapshot.objects.filter(market_id=models.OuterRef("pk"), captured_at__lte=now)
        newest_id = models.Subquery(newest.order_by("-captured_at", "-pk").values("pk")[:1])
        found = Market.objects.filter(pk__in=market_ids).annotate(newest=newest_id).values("newest")
        return self.filter(pk__in=found).order_by()  # one query: the ids are found inside it, not read back first


class OrderBookSnapshot(models.Model):
    """The bids on both sides of one market at one moment.

    Kalshi books hold bids only: a YES bid at p is a NO ask at 1 - p. Levels are
    stored as exact decimal strings, ``[["0.4200", "13.00"], ...]``, sorted
    best first when written.
    """

    class Source(models.TextChoices):
        REST = "rest", "REST"
        WEBSOCKET = "ws", "WebSocket"
        SIMULATOR = "sim", "Simulator"

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="book_snapshots")
    captured_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    seq = models.BigIntegerField(null=True, blank=True, help_text="WebSocket sequence number, when streamed.")
    yes_bids = models.JSONField(default=list)
    no_bids = models.JSONField(default=list)

    objects = OrderBookSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["market", "-captured_at"]
        get_latest_by = "captured_at"
        indexes = [models.Index(fields=["market", "captured_at"], name="book_market_time")]

    def __str__(self) -> str:
        return f"{self.market.ticker} book @ {self.captured_at:%Y-%m-%d %H:%M:%SZ}"


class OrderBookDelta(models.Model):
    """One change of one level of one market's book, as the WebSocket reported it, in sequence.

    Between two stored snapshots (OrderBookSnapshot), the deltas rebuild every
    state the book passed through. ``side`` is which bids changed: YES bids at
    their price, NO bids at theirs (a NO bid at q is a YES ask at 1 - q).
    """

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="book_deltas")
    received_at = models.DateTimeField()
    seq = models.BigIntegerField(help_text="The subscription's sequence number of this change.")
    side = models.CharField(max_length=3, choices=Side.choices)
    price = price_field(help_text="Price of the bids that changed, in dollars.")
    delta = count_field(help_text="Contracts added (positive) or removed (negative) at that price.")

    class Meta:
        ordering = ["market", "received_at", "seq"]
        indexes = [models.Index(fields=["market", "received_at"], name="book_delta_market_time")]

    def __str__(self) -> str:
        return f"{self.market.ticker} {self.side} {self.price} {self.delta:+} (seq {self.seq})"


class ApiCredential(models.Model):
    """A Kalshi API key: its id and RSA private key, encrypted at rest.

    The private key is write-only for people: the admin never renders it and
    ``__str__``/``repr`` never include it. Identify a key by its public-key
    fingerprint instead.
    """

    class Environment(models.TextChoices):
        PROD = KalshiEnvironment.PROD.value, "Production"
        DEMO = KalshiEnvironment.DEMO.value, "Demo"

    name = models.CharField(max_length=64, unique=True)
    environment = models.CharField(max_length=4, choices=Environment.choices)
    key_id = models.CharField("key id", max_length=64)
    private_key = EncryptedTextField(help_text="PEM-encoded RSA private key. Stored encrypted.")
    public_key_fingerprint = models.CharField(max_length=80, editable=False)
    is_active = models.BooleanField(default=True, help_text="The active key of an environment is the one used.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API credential"
        ordering = ["environment", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment"],
                condition=models.Q(is_active=True),
                name="one_active_credential_per_environment",
                violation_error_message="Another credential is already active for this environment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment}, key {self.masked_key_id})"

    def __repr__(self) -> str:
        return f"<ApiCredential {self.pk}: {self}>"

    @property
    def masked_key_id(self) -> str:
        """The key id with all but its last four characters hidden."""
        return mask_tail(self.key_id)

    def mark_used(self, *, now: datetime) -> None:
        ApiCredential.objects.filter(pk=self.pk).update(last_used_at=now)
