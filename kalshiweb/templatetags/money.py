"""Numbers a person reads: dollars to the cent with thousands separators, contracts without trailing zeros."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()
CENT = Decimal("0.01")


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def dollars(value: object) -> str:
    """$1,234.56 (and -$3.20); an empty string for nothing, the value itself for what is not a number."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None or value == "" else str(value)
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


@register.filter
def contracts(value: object) -> str:
    """10, or 2.5 for a fractional count: never 10.00."""
    count = _decimal(value)
    if count is None:
        return "" if value is None or value == "" else str(value)
    return f"{count.normalize():,f}" if count != count.to_integral_value() else f"{int(count):,}"


@register.filter
def percent(value: object) -> str:
    """0.25 → 25%."""
    share = _decimal(value)
    return "" if share is None else f"{(share * 100).normalize():f}%"


@register.filter
def cents(value: object) -> str:
    """A contract price as a trader says it: $0.42 → 42¢ (to a tenth of a cent when it has one)."""
    price = _decimal(value)
    if price is None:
        return "—"
    amount = (price * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
    return f"{amount.copy_abs() if amount.is_zero() else amount:f}¢"  # an edge of -0.04¢ reads 0¢, not -0¢


@register.filter
def probability(value: object) -> str:
    """0.7531 → 75.3%; a dash when there is none."""
    share = _decimal(value)
    return "—" if share is None else f"{share * 100:.1f}%"
