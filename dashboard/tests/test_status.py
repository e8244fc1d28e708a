"""The status page: the kill switch and its buttons (one permission rule), health, the last cycles, today's P&L."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kalshiweb.modes import KalshiEnvironment
from trading.models import Order, Settlement, TradingCycle, TradingState, TradingStateChange
from trading.services import halt_trading, resume_trading, set_trading_state
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, build_world
from weather.tests.factories import CityFactory

pytestmark = pytest.mark.django_db

D = Decimal
CONTROL = "dashboard-trading-control"


@pytest.fixture
def viewer(client, django_user_model):
    """Staff who may look but not switch trading."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def resting(market, n: int) -> Order:
    return OrderFactory.create(
        market=market, mode="DRY", status=Order.Status.RESTING, book_side="bid", price=D("0.05"), count=D(2),
        exchange_order_id=f"paper-{n}", submitted_at=NOW, client_order_id=f"kw-{n:04d}", post_only=True,
    )  # fmt: skip


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(client):
    assert client.get(reverse("home"))["Location"].startswith("/admin/login/")
    response = client.post(reverse(CONTROL), {"action": "resume", "reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not TradingStateChange.objects.exists()


def test_it_shows_the_state_who_set_it_when_and_the_buttons(staff_client):
    set_trading_state(state="reduce_only", reason="CPI release", actor="alice", now=timezone.now())
    html = staff_client.get(reverse("home")).content.decode()
    switch = html.split('id="kill-switch"')[1].split("</section>")[0]
    assert 'class="pill state reduce_only" data-live-trading-state>Reduce only<' in switch
    assert "CPI release" in switch and "by alice at" in switch
    for label in ("Halt trading", "Stop new entries", "Resume trading", "Cancel all working orders"):
        assert f">{label}</button>" in switch
    assert "Halt trading</button>" in switch and 'value="halt"' in switch and "csrfmiddlewaretoken" in switch
    assert "switch-refused" not in html


def test_it_says_what_tripped_the_switch(staff_client):
    halt_trading(reason="Tripped automatically: daily loss $60.00 reached the limit $50.00.",
                 actor="system:daily_loss", now=timezone.now())  # fmt: skip
    html = staff_client.get(reverse("home")).content.decode()
    assert "tripped automatically (daily_loss)" in html and "daily loss $60.00 reached the limit" in html


def test_health_is_a_fragment_refreshed_by_live_events_and_every_30_seconds(staff_client):
    html = staff_client.get(reverse("home")).content.decode()
    health = html.split('id="status-health"')[1].split(">")[0]
    assert f'hx-get="{reverse("dashboard-status-health")}"' in health
    triggers = "live-trading-state from:body, live-feed-status from:body, live-reconnected from:body, every 30s"
    assert f'hx-trigger="{triggers}"' in health
    fragment = staff_client.get(reverse("dashboard-status-health")).content.decode()
    assert fragment.lstrip().startswith('<section id="status-health"') and "<html" not in fragment
    for component in ("worker", "data_freshness", "weather_sources", "feed", "model"):
        assert f'id="health-{component}"' in fragment


def test_it_shows_todays_realised_pnl_and_the_last_cycles(staff_client):
    now = timezone.now()
    settled = {"mode": "DRY", "recorded_at": now}
    Settlement.objects.create(ticker="KXHIGHNY-X-B40", result="yes", yes_count=D(10), cost=D("4.20"), revenue=D(10),
                              fees=D("0.10"), settled_time=now, **settled)  # fmt: skip
    Settlement.objects.create(ticker="KXHIGHNY-X-B42", result="no", yes_count=D(5), cost=D("2.00"), revenue=D(0),
                              settled_time=now - timedelta(days=2), **settled)  # fmt: skip
    TradingCycle.objects.create(mode="DRY", strategy="model-taker", as_of=now - timedelta(minutes=5), outcome="done",
                                markets=12, intents=2, placed=1)  # fmt: skip
    TradingCycle.objects.create(mode="DEMO", strategy="model-taker", as_of=now, outcome="failed", detail="demo only")
    html = staff_client.get(reverse("home")).content.decode()
    assert 'id="realized-today">$5.70<' in html  # $10 - $4.20 - $0.10; the settlement of two days ago is not today's
    cycles = html.split('id="cycles"')[1].split("</table>")[0]
    assert "model-taker" in cycles and ">Done<" in cycles and "<td>12</td>" in cycles and "demo only" not in cycles


def test_staff_without_the_permission_see_the_buttons_disabled_and_why(viewer):
    html = viewer.get(reverse("home")).content.decode()
    switch = html.split('id="kill-switch"')[1].split("</section>")[0]
    assert 'value="halt"' in switch and "disabled>Halt trading</button>" in switch
    assert "needs the &#x27;Can change trading state&#x27; permission" in switch


def test_staff_without_the_permission_are_refused_with_the_reason(viewer):
    resume_trading(reason="open", actor="alice", now=timezone.now())
    response = viewer.post(reverse(CONTROL), {"action": "halt", "reason": "mine"}, follow=True)
    assert messages_of(response) == [
        "Refused: Changing the trading state or cancelling orders needs the 'Can change trading state' permission."
    ]
    assert TradingState.load().state == "active" and TradingStateChange.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_operator_halts_and_the_working_orders_are_cancelled(staff_client):
    """Committed for real, as in production: the halt's cancel runs once the change commits."""
    world = build_world()
    resume_trading(reason="open", actor="alice", now=timezone.now())
    first, second = resting(world.low, 1), resting(world.mid, 2)
    response = staff_client.post(reverse(CONTROL), {"action": "halt", "reason": "storm data looks wrong"}, follow=True)
    assert messages_of(response) == ["Halted. 2 of 2 working orders cancelled."]
    state = TradingState.load()
    assert (state.state, state.reason, state.changed_by) == ("halted", "storm data looks wrong", "operator")
    change = TradingStateChange.objects.order_by("-id")[0]
    assert (change.from_state, change.to_state, change.actor) == ("active", "halted", "operator")
    assert set(Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"canceled"}


def test_halting_without_working_orders_says_so_and_a_blank_reason_is_explained(staff_client):
    resume_trading(reason="open", actor="alice", now=timezone.now())
    response = staff_client.post(reverse(CONTROL), {"action": "halt", "reason": "  "}, follow=True)
    assert messages_of(response) == ["Halted. There were no working orders to cancel."]
    assert TradingState.load().reason == "Halted from the status page (no reason given)."


def test_halting_twice_says_it_was_already_halted(staff_client):
    response = staff_client.post(reverse(CONTROL), {"action": "halt", "reason": "again"}, follow=True)
    assert messages_of(response)[0].startswith("Trading was already halted; the reason is updated.")


def test_stop_new_entries_goes_reduce_only_and_keeps_the_orders(staff_client):
    world = build_world()
    order = resting(world.low, 1)
    response = staff_client.post(reverse(CONTROL), {"action": "reduce_only", "reason": "FOMC"}, follow=True)
    assert messages_of(response)[0].startswith("Reduce only. No new positions are opened")
    assert TradingState.load().state == "reduce_only"
    assert Order.objects.get(pk=order.pk).status == "resting"
    assert TradingStateChange.objects.get().actor == "operator"


def test_resume_says_what_still_blocks_new_positions(staff_client):
    response = staff_client.post(reverse(CONTROL), {"action": "resume", "reason": "limits reviewed"}, follow=True)
    [said] = messages_of(response)
    assert said.startswith("Active. New positions are still blocked: model not ready")  # no promoted model here
    assert TradingState.load().state == "active"


def test_cancel_all_cancels_every_working_order_and_counts_them(staff_client):
    world = build_world()
    orders = [resting(world.low, 1), resting(world.mid, 2), resting(world.high, 3)]
    response = staff_client.post(reverse(CONTROL), {"action": "cancel_all"}, follow=True)
    assert messages_of(response) == ["3 of 3 working orders cancelled."]
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"canceled"}
    assert "cancelled by operator from the status page" in Order.objects.get(pk=orders[0].pk).reason
    assert TradingState.load().state == "halted"  # the state is untouched


@override_settings(
    TRADING_MODE="DEMO", KALSHI_ENV=KalshiEnvironment.DEMO, KALSHI_BASE_URL="http://127.0.0.1:9/trade-api/v2"
)
def test_cancel_all_says_why_when_the_exchange_cannot_be_used(staff_client):
    world = build_world()
    order = OrderFactory.create(market=world.low, mode="DEMO", status=Order.Status.RESTING, exchange_order_id="x-1")
    response = staff_client.post(reverse(CONTROL), {"action": "cancel_all"}, follow=True)
    [said] = messages_of(response)
    assert said.startswith("0 of 1 working orders cancelled. The rest still work (each order's reason")
    order.refresh_from_db()
    assert order.status == "resting" and "cancel failed" in order.reason and "no Kalshi API key" in order.reason


def test_cancel_all_with_nothing_working_says_so(staff_client):
    response = staff_client.post(reverse(CONTROL), {"action": "cancel_all"}, follow=True)
    assert messages_of(response) == ["There were no working orders to cancel."]


def test_an_unknown_action_changes_nothing(staff_client):
    response = staff_client.post(reverse(CONTROL), {"action": "explode"}, follow=True)
    assert messages_of(response) == ["Unknown action 'explode': nothing was changed."]
    assert not TradingStateChange.objects.exists()


def test_the_controls_refuse_get(staff_client):
    assert staff_client.get(reverse(CONTROL)).status_code == 405


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["home", "dashboard-status-health"])
def test_its_queries_do_not_grow_with_the_data(staff_client, page):
    now = timezone.now()
    count_queries(staff_client, reverse(page))  # the first visit creates the one-row tables (limits, account)
    small = count_queries(staff_client, reverse(page))
    world = build_world()
    for n in range(12):
        resting(world.low, n)
        CityFactory.create(name=f"City {n}")
        TradingCycle.objects.create(mode="DRY", strategy="model-taker", as_of=now - timedelta(minutes=5 * n))
        set_trading_state(state="reduce_only" if n % 2 else "active", reason=f"r{n}", actor="a", now=now)
    assert count_queries(staff_client, reverse(page)) == small


def test_the_page_reads_the_trading_state_once_for_the_banner_and_the_switch(staff_client):
    TradingState.load()
    with CaptureQueriesContext(connection) as captured:
        staff_client.get(reverse("home"))
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "trading_tradingstate"' in q["sql"]]
    assert len(reads) == 2  # the banner's (shared by the switch) and the health check's own
