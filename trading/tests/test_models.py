from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from trading.models import RiskLimits, Settlement
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_client_order_ids_are_unique():
    order = OrderFactory()
    with pytest.raises(IntegrityError):
        OrderFactory(client_order_id=order.client_order_id)


@pytest.mark.parametrize(("field", "value"), [("count", Decimal(0)), ("price", Decimal(1)), ("price", Decimal(0))])
def test_orders_need_a_positive_count_and_a_price_inside_the_unit(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(**{field: value})


def test_money_stays_decimal():
    order = OrderFactory.create(price=Decimal("0.4235"), count=Decimal("2.50"))
    order.refresh_from_db()
    assert order.price == Decimal("0.4235")
    assert isinstance(order.count, Decimal)
    settlement = Settlement(
        mode="DRY",
        ticker="T",
        result="yes",
        cost=Decimal("4.20"),
        revenue=Decimal("10"),
        fees=Decimal("0.07"),
        settled_time=datetime(2025, 3, 1, tzinfo=UTC),
        recorded_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    assert settlement.pnl == Decimal("5.73")


class TestRiskLimits:
    def test_the_defaults_are_small_and_valid(self):
        limits = RiskLimits.load()
        limits.full_clean()
        assert limits.max_order_cost == Decimal(10)
        assert limits.kelly_fraction == Decimal("0.25")

    def test_it_rejects_inconsistent_limits(self):
        limits = RiskLimits.load()
        limits.min_price, limits.max_price, limits.kelly_fraction = Decimal("0.9"), Decimal("0.1"), Decimal("1.5")
        with pytest.raises(ValidationError) as excinfo:
            limits.full_clean()
        assert {"max_price", "kelly_fraction"} <= set(excinfo.value.message_dict)

    def test_the_database_refuses_them_too(self):
        limits = RiskLimits.load()
        limits.min_price = Decimal("0.99")
        with pytest.raises(IntegrityError):
            limits.save()

    def test_the_admin_edits_the_one_row_and_records_who(self, staff_client):
        limits = RiskLimits.load()
        url = reverse("admin:trading_risklimits_change", args=[limits.pk])
        data = {
            field.name: getattr(limits, field.name)
            for field in RiskLimits._meta.fields
            if field.editable and field.name not in {"id", "updated_by"}
        }
        data["max_order_cost"] = "20"
        response = staff_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        limits.refresh_from_db()
        assert (limits.max_order_cost, limits.updated_by) == (Decimal(20), "operator")
        assert RiskLimits.objects.count() == 1
