"""The controls an operator sets: risk limits, the trading state (kill switch), and the audit trails of both."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Self

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from kalshiweb.models import SingletonModel
from markets.fields import count_field, dollars_field, price_field
from trading.limits import Limits, Sizing, TradingStatus


class RiskLimits(SingletonModel):
    """Hard limits every order is checked against. One row, edited in the admin.

    Defaults are deliberately small: a new installation should lose little
    while its operator learns how it behaves.
    """

    max_order_contracts = count_field(default=Decimal(10))
    max_order_cost = dollars_field("max order cost ($)", default=Decimal(10))
    max_position_contracts = count_field("max contracts per market", default=Decimal(50))
    max_event_exposure = dollars_field("max exposure per event ($)", default=Decimal(50))
    max_city_day_exposure = dollars_field("max exposure per city and day ($)", default=Decimal(75))
    max_total_exposure = dollars_field("max total open exposure ($)", default=Decimal(250))
    max_daily_loss = dollars_field("max daily loss ($)", default=Decimal(50), help_text="Trips the kill switch.")
    max_drawdown = dollars_field("max drawdown ($)", default=Decimal(150), help_text="Trips the kill switch.")
    min_price = price_field(default=Decimal("0.05"), help_text="Never buy below this (longshots).")
    max_price = price_field(default=Decimal("0.95"), help_text="Never buy above this.")
    max_depth_fraction = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.25"), help_text="Max share of displayed depth to take."
    )
    kelly_fraction = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.25"))
    market_shrinkage = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.50"),
        help_text="Weight on the market's price when shrinking our probability before sizing (0 = ignore market).",
    )
    min_edge = price_field(default=Decimal("0.03"), help_text="Minimum expected value per contract after fees ($).")
    max_data_age_minutes = models.PositiveIntegerField(
        default=360, help_text="Older forecasts or books trip the kill switch."
    )
    max_consecutive_exchange_errors = models.PositiveIntegerField(default=5)
    max_order_age_minutes = models.PositiveIntegerField(
        default=120, help_text="A resting order older than this is cancelled, so a stale price does not fill later."
    )
    require_approval = models.BooleanField(
        "manual approval",
        default=False,
        help_text="Queue every order for an operator to approve in the admin instead of sending it.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "risk limits"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_price__gt=0, max_price__lt=1, min_price__lt=models.F("max_price")),
                name="risk_price_band_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kelly_fraction__gt=0, kelly_fraction__lte=1), name="risk_kelly_fraction_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(market_shrinkage__gte=0, market_shrinkage__lte=1), name="risk_shrinkage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(max_depth_fraction__gt=0, max_depth_fraction__lte=1), name="risk_depth_valid"
            ),
        ]

    def __str__(self) -> str:
        return "Risk limits"

    def limits(self) -> Limits:
        """The hard limits as the decision core takes them."""
        return Limits(
            max_order_contracts=self.max_order_contracts,
            max_order_cost=self.max_order_cost,
            max_position_contracts=self.max_position_contracts,
            max_event_exposure=self.max_event_exposure,
            max_city_day_exposure=self.max_city_day_exposure,
            max_total_exposure=self.max_total_exposure,
            max_daily_loss=self.max_daily_loss,
            max_drawdown=self.max_drawdown,
            min_price=self.min_price,
            max_price=self.max_price,
            max_depth_fraction=self.max_depth_fraction,
            max_data_age=timedelta(minutes=self.max_data_age_minutes),
        )

    def sizing(self) -> Sizing:
        """How the model strategies size: their edge threshold, Kelly fraction and shrinkage toward the market."""
        return Sizing(
            min_edge=self.min_edge, kelly_fraction=self.kelly_fraction, market_shrinkage=self.market_shrinkage
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (0 < self.min_price < self.max_price < 1):
            errors["max_price"] = "Need 0 < min price < max price < 1."
        if not (0 < self.kelly_fraction <= 1):
            errors["kelly_fraction"] = "Kelly fraction must be in (0, 1]."
        if not (0 <= self.market_shrinkage <= 1):
            errors["market_shrinkage"] = "Shrinkage must be in [0, 1]."
        if not (0 < self.max_depth_fraction <= 1):
            errors["max_depth_fraction"] = "Depth fraction must be in (0, 1]."
        for name in ("max_order_contracts", "max_order_cost", "max_position_contracts", "max_total_exposure"):
            if getattr(self, name) <= 0:
                errors[name] = "Must be positive."
        if errors:
            raise ValidationError(errors)


class TradingState(SingletonModel):
    """The kill switch: whether new orders may be placed at all.

    HALTED refuses every new order (cancels are still allowed); REDUCE_ONLY
    allows only orders that shrink a position. A new installation starts
    halted, so nothing trades before an operator has looked at the limits.
    """

    class State(models.TextChoices):  # the values of trading.limits.TradingStatus, which the core takes
        ACTIVE = TradingStatus.ACTIVE.value, "Active"
        REDUCE_ONLY = TradingStatus.REDUCE_ONLY.value, "Reduce only"
        HALTED = TradingStatus.HALTED.value, "Halted"

    state = models.CharField(max_length=12, choices=State.choices, default=State.HALTED)
    reason = models.TextField(default="New installation: review the risk limits, then resume trading.")
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.CharField(max_length=150, blank=True, help_text="A user, or system:<trigger>.")
    live_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When an operator confirmed, in the admin, that LIVE may trade real money."
    )
    live_confirmed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "trading state"

    def __str__(self) -> str:
        return f"Trading {self.get_state_display().lower()}"

    @property
    def allows_new_exposure(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def status(self) -> TradingStatus:
        return TradingStatus(self.state)


class TradingStateChange(models.Model):
    """Audit trail of every halt, resume and reduce-only switch."""

    from_state = models.CharField(max_length=12, choices=TradingState.State.choices)
    to_state = models.CharField(max_length=12, choices=TradingState.State.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}Z {self.from_state} → {self.to_state} by {self.actor}"


class RiskLimitChange(models.Model):
    """Audit trail of the risk limits: one row per changed limit, old → new, whoever changed it and how."""

    class Via(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard"
        ADMIN = "admin", "Admin"
        API = "api", "API"

    field = models.CharField(max_length=64, help_text="The RiskLimits field that changed.")
    old_value = models.CharField(max_length=64)
    new_value = models.CharField(max_length=64)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()
    via = models.CharField(max_length=9, choices=Via.choices)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}Z {self.field}: {self.old_value} → {self.new_value} by {self.actor}"

    @staticmethod
    def editable_fields() -> set[str]:
        """The limits an operator may change (not the key, not who last changed them)."""
        return {f.name for f in RiskLimits._meta.concrete_fields if not f.primary_key and f.name not in _NOT_LIMITS}

    @classmethod
    def of(cls, name: str, old: object, new: object, *, actor: str, at: datetime, via: str, reason: str) -> Self:
        return cls(field=name, old_value=_text(old), new_value=_text(new), actor=actor, at=at, via=via, reason=reason)

    @property
    def label(self) -> str:
        """The limit as the admin and the limits page name it, e.g. "max order cost ($)"."""
        try:
            found = RiskLimits._meta.get_field(self.field)
        except FieldDoesNotExist:
            return self.field
        return str(getattr(found, "verbose_name", self.field))


_NOT_LIMITS = {"updated_at", "updated_by"}


def _text(value: object) -> str:
    """A limit as a person reads it in the trail: 10, 0.05, yes."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)
