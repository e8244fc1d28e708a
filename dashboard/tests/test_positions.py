"""Open positions and working orders, and the operator's bulk cancel (with the one trading permission)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from markets.schemas.enums import BookSide
from trading.accounting import FillReport, record_fills
from trading.models import Order
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, build_world

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def viewer(client, django_user_model):
    """Staff who may look but not trade."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def resting(world, n: int, **fields):
    return OrderFactory.create(
        market=world.low, mode="DRY", status=Order.Status.RESTING, book_side="bid", price=D("0.05"), count=D(2),
        exchange_order_id=f"paper-{n}", submitted_at=NOW, client_order_id=f"kw-{n:04d}", post_only=True, **fields,
    )  # fmt: skip


def test_it_lists_positions_and_working_orders_as_money(staff_client, world):
    record_fills([FillReport("t1", world.mid.ticker, BookSide.BID, D("0.42"), D(7), D("0.13"), True, NOW)],
                 mode="DRY", now=NOW)  # fmt: skip
    resting(world, 1)
    html = staff_client.get(reverse("dashboard-positions")).content.decode()
    positions = html.split('id="positions"')[1].split("</table>")[0]
    assert world.mid.ticker in positions and "7 YES" in positions and "$2.94" in positions and "$0.13" in positions
    assert "Cash $996.93" in html  # $1,000 - 7 x $0.42 - $0.13
    orders = html.split('id="orders"')[1].split("</table>")[0]
    assert world.low.ticker in orders and "5¢" in orders and "0 / 2" in orders and "Resting" in orders


def test_an_operator_cancels_the_selected_orders(staff_client, world):
    first, second, kept = resting(world, 1), resting(world, 2), resting(world, 3)
    page = staff_client.post(reverse("dashboard-positions"), {"order": [first.pk, second.pk]}, follow=True)
    assert "2 of 2 orders cancelled." in page.content.decode()
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[kept.pk]) == ("canceled", "canceled", "resting")
    assert "cancelled by operator" in Order.objects.get(pk=first.pk).reason


def test_staff_without_the_permission_cannot_cancel(viewer, world):
    order = resting(world, 1)
    html = viewer.get(reverse("dashboard-positions")).content.decode()
    assert "Cancel selected orders" not in html
    page = viewer.post(reverse("dashboard-positions"), {"order": [order.pk]}, follow=True).content.decode()
    assert "needs the &#x27;Can change trading state&#x27; permission" in page
    assert Order.objects.get(pk=order.pk).status == "resting"


def test_choosing_nothing_says_so(staff_client, world):
    resting(world, 1)
    page = staff_client.post(reverse("dashboard-positions"), {}, follow=True).content.decode()
    assert "Choose the orders to cancel." in page
