"""The operator's actions over the API: bulk cancel and the trading state, with the one trading permission."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from markets.errors import AuthError
from trading.brokers import BrokerUnavailable
from trading.models import Order, TradingState
from trading.tests.factories import OrderFactory
from trading.tests.world import NOW, build_world

pytestmark = pytest.mark.django_db
CANCEL = "/api/orders/cancel/"
STATE = "/api/trading/state/"


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def operator(client, django_user_model):
    """Staff with the one trading permission, and nothing else."""
    user = django_user_model.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_tradingstate"))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def resting(market, n: int, mode: str = "DRY", status: str = Order.Status.RESTING) -> Order:
    return OrderFactory.create(
        market=market, mode=mode, status=status, price=Decimal("0.05"), exchange_order_id=f"paper-{n}",
        submitted_at=NOW, client_order_id=f"kw-{n:04d}",
    )  # fmt: skip


def statuses() -> dict[int, str]:
    return dict(Order.objects.values_list("pk", "status"))


def test_an_operator_cancels_orders_by_id_and_hears_which_were_not(operator, world):
    first, second = resting(world.low, 1), resting(world.mid, 2)
    done = resting(world.mid, 3, status=Order.Status.EXECUTED)
    response = operator.post(CANCEL, {"ids": [first.pk, second.pk, done.pk, 999999]}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [o["id"] for o in body["cancelled"]] == [first.pk, second.pk]
    assert body["cancelled"][0]["status"] == "canceled" and "cancelled by op" in body["cancelled"][0]["reason"]
    assert body["not_cancelled"] == [
        {"id": done.pk, "ticker": world.mid.ticker, "status": "executed",
         "reason": "Nothing rests at the exchange: the order is executed."},
        {"id": 999999, "ticker": None, "status": None, "reason": "No such order."},
    ]  # fmt: skip
    assert statuses() == {first.pk: "canceled", second.pk: "canceled", done.pk: "executed"}


def test_cancel_by_ticker_takes_only_that_markets_working_orders_of_this_mode(operator, world):
    low, mid = resting(world.low, 1), resting(world.mid, 2)
    demo = resting(world.low, 3, mode="DEMO")
    response = operator.post(CANCEL, {"ticker": world.low.ticker}, content_type="application/json")
    assert [o["id"] for o in response.json()["cancelled"]] == [low.pk]
    assert statuses() == {low.pk: "canceled", mid.pk: "resting", demo.pk: "resting"}


def test_cancel_all_takes_every_working_order_including_those_awaiting_approval(operator, world):
    orders = [resting(world.low, 1), resting(world.mid, 2, status=Order.Status.AWAITING_APPROVAL)]
    response = operator.post(CANCEL, {"all": True}, content_type="application/json")
    assert sorted(o["id"] for o in response.json()["cancelled"]) == [o.pk for o in orders]
    assert set(statuses().values()) == {"canceled"}
    again = operator.post(CANCEL, {"all": True}, content_type="application/json").json()
    assert again == {"cancelled": [], "not_cancelled": []}


def test_an_order_of_another_mode_is_a_409_and_nothing_is_cancelled(operator, world):
    mine, theirs = resting(world.low, 1), resting(world.low, 2, mode="DEMO")
    response = operator.post(CANCEL, {"ids": [mine.pk, theirs.pk]}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "Cannot cancel a DEMO order: this installation trades DRY." in response.json()["error"]["message"]
    assert set(statuses().values()) == {"resting"}


def test_an_unreachable_broker_is_a_503_and_nothing_is_cancelled(operator, world, monkeypatch):
    @contextmanager
    def unavailable(*args, **kwargs):
        raise BrokerUnavailable("LIVE is not armed")
        yield

    monkeypatch.setattr("trading.services.mode_broker", unavailable)
    order = resting(world.low, 1)
    response = operator.post(CANCEL, {"ids": [order.pk]}, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"] == {"code": "unavailable", "message": "Nothing was cancelled: LIVE is not armed"}
    assert statuses() == {order.pk: "resting"}


def test_an_exchange_refusing_our_key_is_a_503_not_a_500(operator, world, monkeypatch):
    @contextmanager
    def refused(*args, **kwargs):
        raise AuthError("the key was refused", method="GET", path="/account/limits", status=401)
        yield

    monkeypatch.setattr("trading.services.mode_broker", refused)
    order = resting(world.low, 1)
    response = operator.post(CANCEL, {"ids": [order.pk]}, content_type="application/json")
    assert response.status_code == 503
    assert "HTTP 401 the key was refused" in response.json()["error"]["message"]
    assert statuses() == {order.pk: "resting"}


@pytest.mark.parametrize(
    "given", [{}, {"all": False}, {"ids": [1], "ticker": "X"}, {"ticker": "X", "all": True}, {"ids": []}]
)
def test_the_choice_must_be_exactly_one_selector(operator, world, given):
    response = operator.post(CANCEL, given, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "non_field_errors": ["Give exactly one of ids, ticker, event_ticker or all=true."]
    }


def test_bad_ids_are_400_naming_the_field(operator):
    response = operator.post(CANCEL, {"ids": ["x"]}, content_type="application/json")
    assert response.status_code == 400 and "ids" in response.json()["error"]["fields"]


def test_staff_without_the_permission_get_403_and_anonymous_401(viewer, world):
    order = resting(world.low, 1)
    refused = viewer.post(CANCEL, {"all": True}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    anonymous = APIClient().post(CANCEL, {"all": True}, format="json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    assert viewer.post(STATE, {"state": "halted", "reason": "x"}).status_code == 403
    assert APIClient().post(STATE, {"state": "halted", "reason": "x"}).status_code == 401
    assert statuses() == {order.pk: "resting"}


def test_get_on_the_cancel_action_is_405_in_the_error_shape(operator):
    response = operator.get(CANCEL)
    assert response.status_code == 405
    assert response.json() == {"error": {"code": "method_not_allowed", "message": 'Method "GET" not allowed.'}}


def test_stop_new_entries_then_resume(operator, world):
    stopped = operator.post(STATE, {"state": "reduce_only", "reason": "CPI at 08:30"})
    assert stopped.status_code == 200
    shown = stopped.json()
    assert shown.pop("changed_at")
    assert shown == {"state": "reduce_only", "label": "Reduce only", "reason": "CPI at 08:30", "changed_by": "op"}
    gate = operator.get(STATE).json()
    assert gate["state"] == "reduce_only" and gate["may_open_positions"] is False
    assert gate["blocked_by"][0] == "trading is reduce only: CPI at 08:30"
    assert set(gate["model"]) == {"ready", "reason", "version", "trained_at"} and gate["model"]["version"]
    resumed = operator.post(STATE, {"state": "active", "reason": "after the print"}).json()
    assert resumed["label"] == "Active" and TradingState.load().state == "active"


def test_a_halt_cancels_the_working_orders_once_committed(operator, world, django_capture_on_commit_callbacks):
    order = resting(world.low, 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(STATE, {"state": "halted", "reason": "feed looks wrong"})
    assert response.status_code == 200 and response.json()["label"] == "Halted"
    assert statuses() == {order.pk: "canceled"}
    assert "trading halted: feed looks wrong" in Order.objects.get(pk=order.pk).reason


def test_an_unknown_state_or_a_blank_reason_is_400_with_the_field(operator):
    unknown = operator.post(STATE, {"state": "paused", "reason": "x"})
    assert unknown.status_code == 400 and "state" in unknown.json()["error"]["fields"]
    blank = operator.post(STATE, {"state": "halted", "reason": "   "})
    assert blank.status_code == 400 and "reason" in blank.json()["error"]["fields"]
