"""The trading admin: order approval and cancelling, LIVE confirmation, the journal pages, money as dollars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from trading.accounting import account_for
from trading.admin import money
from trading.models import Difference, Order, Reconciliation, TradingCycle, TradingState
from trading.services import resume_trading
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = "admin:trading_order_changelist"


def act(client, action: str, *orders: Order):
    return client.post(
        reverse(ORDERS), {"action": action, "_selected_action": [o.pk for o in orders]}, follow=True
    ).content.decode()


@pytest.fixture
def viewer(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    for codename in ("view_order", "view_tradingstate"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


class TestOrderActions:
    def test_approve_sends_a_queued_order(self, staff_client):
        account_for("DRY")
        resume_trading(reason="go", actor="a", now=timezone.now())
        order = OrderFactory.create(status=Order.Status.AWAITING_APPROVAL, created_at=timezone.now())
        act(staff_client, "approve_and_send", order)
        order.refresh_from_db()
        assert order.status != Order.Status.AWAITING_APPROVAL
        assert order.submitted_at is not None
        assert "approved by operator" in order.reason

    def test_approval_is_refused_while_halted(self, staff_client):
        account_for("DRY")
        order = OrderFactory.create(status=Order.Status.AWAITING_APPROVAL, created_at=timezone.now())
        page = act(staff_client, "approve_and_send", order)
        assert "resume it before approving orders" in page
        order.refresh_from_db()
        assert order.status == Order.Status.AWAITING_APPROVAL

    def test_a_stale_queued_order_cannot_be_approved(self, staff_client):
        account_for("DRY")
        resume_trading(reason="go", actor="a", now=timezone.now())
        order = OrderFactory.create(
            status=Order.Status.AWAITING_APPROVAL, created_at=timezone.now() - timedelta(hours=5)
        )
        assert "its price is stale, reject it" in act(staff_client, "approve_and_send", order)
        order.refresh_from_db()
        assert order.status == Order.Status.AWAITING_APPROVAL

    def test_reject_withdraws_a_queued_order(self, staff_client):
        account_for("DRY")
        order = OrderFactory.create(status=Order.Status.AWAITING_APPROVAL)
        act(staff_client, "reject", order)
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELED
        assert "not approved by operator" in order.reason

    def test_cancel_cancels_a_resting_order_and_skips_others(self, staff_client):
        account_for("DRY")
        order = OrderFactory.create(status=Order.Status.RESTING, exchange_order_id="p-1", submitted_at=timezone.now())
        done = OrderFactory.create(status=Order.Status.EXECUTED)
        page = act(staff_client, "cancel", order, done)
        order.refresh_from_db()
        done.refresh_from_db()
        assert (order.status, order.remaining_count) == (Order.Status.CANCELED, 0)
        assert "cancelled by operator" in order.reason
        assert done.status == Order.Status.EXECUTED
        assert "1 order(s) skipped" in page

    def test_staff_without_the_permission_get_no_actions(self, viewer):
        order = OrderFactory.create(status=Order.Status.AWAITING_APPROVAL)
        page = viewer.get(reverse(ORDERS)).content.decode()
        assert "Approve and send" not in page
        viewer.post(reverse(ORDERS), {"action": "approve_and_send", "_selected_action": [order.pk]})
        order.refresh_from_db()
        assert order.status == Order.Status.AWAITING_APPROVAL

    def test_money_is_shown_in_dollars(self, staff_client):
        OrderFactory.create(price=Decimal("0.42"), fees=Decimal("1234.5"))
        page = staff_client.get(reverse(ORDERS)).content.decode()
        assert "$0.42" in page and "$1,234.50" in page
        assert "0.420000" not in page
        assert money(Decimal("-3.2")) == "-$3.20"


class TestConfirmLive:
    def url(self) -> str:
        return reverse("admin:trading_tradingstate_confirm_live", args=[TradingState.load().pk])

    def test_typing_live_records_who_and_when(self, staff_client):
        assert "Type <code>LIVE</code> to confirm" in staff_client.get(self.url()).content.decode()
        staff_client.post(self.url(), {"confirmation": "LIVE"})
        state = TradingState.load()
        assert state.live_confirmed_by == "operator"
        assert state.live_confirmed_at is not None
        assert timezone.now() - state.live_confirmed_at < timedelta(minutes=1)

    def test_anything_else_confirms_nothing(self, staff_client):
        page = staff_client.post(self.url(), {"confirmation": "live"}, follow=True).content.decode()
        assert "Type LIVE to confirm; nothing was changed." in page
        assert TradingState.load().live_confirmed_at is None

    def test_it_needs_the_switch_permission(self, viewer):
        viewer.post(self.url(), {"confirmation": "LIVE"})
        assert TradingState.load().live_confirmed_at is None

    def test_the_state_page_links_to_it(self, staff_client):
        state = TradingState.load()
        page = staff_client.get(reverse("admin:trading_tradingstate_change", args=[state.pk])).content.decode()
        assert "LIVE trading is not confirmed" in page and self.url() in page


class TestJournalPages:
    def test_cycles_decisions_reconciliations_and_accounts_are_listed_read_only(self, staff_client):
        at = datetime(2025, 2, 20, 15, tzinfo=UTC)
        cycle = TradingCycle.objects.create(mode="DRY", strategy="model-taker", as_of=at, outcome="done", placed=2)
        cycle.decisions.create(
            mode="DRY",
            at=at,
            strategy="model-taker",
            event_ticker="E",
            ticker="KXHIGHNY-X",
            verdict="ordered",
            price=Decimal("0.37"),
            edge=Decimal("0.05"),
        )
        rec = Reconciliation.objects.create(mode="DEMO", started_at=at, complete=True, balance=Decimal("1234.56"))
        Difference.objects.create(reconciliation=rec, kind="balance", ours="1200", theirs="1234.56", fix="set cash")
        account_for("DRY")
        pages = {
            "tradingcycle": "model-taker",
            "decisionlogentry": "$0.37",
            "reconciliation": "$1,234.56",
            "account": "$1,000.00",
        }
        for model, expected in pages.items():
            response = staff_client.get(reverse(f"admin:trading_{model}_changelist"))
            assert response.status_code == 200
            assert expected in response.content.decode(), model
            assert reverse(f"admin:trading_{model}_add") not in response.content.decode()
        filtered = staff_client.get(
            reverse("admin:trading_decisionlogentry_changelist"), {"verdict": "ordered", "q": "KXHIGHNY"}
        )
        assert "KXHIGHNY-X" in filtered.content.decode()
        detail = staff_client.get(reverse("admin:trading_reconciliation_change", args=[rec.pk])).content.decode()
        assert "set cash" in detail
