"""The risk limits page: every limit with its unit; operators change them, each change audited old → new.

The admin and the API change them through the same service, so their changes land in the same trail.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.views.limits import UNITS, plain
from trading.models import RiskLimitChange, RiskLimits
from trading.services import update_risk_limits

pytestmark = pytest.mark.django_db

PAGE = "dashboard-limits"


@pytest.fixture
def viewer(client, django_user_model):
    """Staff who may look but not change trading."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def form_data(**changes: str) -> dict[str, str]:
    """The form as the page fills it in (what is stored now), with ``changes`` typed over it."""
    limits = RiskLimits.load()
    data = {name: str(plain(getattr(limits, name))) for name in UNITS if name != "require_approval"}
    if limits.require_approval:
        data["require_approval"] = "on"
    return {**data, **changes}


def trail() -> list[tuple[str, str, str, str, str]]:
    return list(
        RiskLimitChange.objects.order_by("field").values_list("field", "old_value", "new_value", "actor", "via")
    )


def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(client):
    assert client.get(reverse(PAGE))["Location"].startswith("/admin/login/")
    assert client.post(reverse(PAGE), form_data(max_order_cost="99"))["Location"].startswith("/admin/login/")
    assert RiskLimits.load().max_order_cost == Decimal(10) and not RiskLimitChange.objects.exists()


def test_every_limit_is_shown_with_its_unit_and_help(staff_client):
    html = staff_client.get(reverse(PAGE)).content.decode()
    for name, unit in UNITS.items():
        row = html.split(f'id="limit-{name}"')[1].split("</tr>")[0]
        assert f'id="unit-{name}">{unit}<' in row, name
        assert f'name="{name}"' in row, name
    cost = html.split('id="limit-max_order_cost"')[1].split("</tr>")[0]
    assert "<td>$10.00</td>" in cost and 'value="10"' in cost and "10.000000" not in cost
    assert "<td>5¢</td>" in html.split('id="limit-min_price"')[1].split("</tr>")[0]
    assert "<td>25%</td>" in html.split('id="limit-kelly_fraction"')[1].split("</tr>")[0]
    assert "Trips the kill switch." in html.split('id="limit-max_daily_loss"')[1].split("</tr>")[0]
    for name in UNITS:  # every limit says what it does
        assert '<td class="muted"></td>' not in html.split(f'id="limit-{name}"')[1].split("</tr>")[0], name


def test_an_operator_changes_limits_and_each_change_is_recorded(staff_client):
    data = form_data(max_order_cost="20.5", kelly_fraction="0.1", reason="smaller bets this week")
    response = staff_client.post(reverse(PAGE), data, follow=True)
    assert messages_of(response) == ["Saved: Max order cost ($), Kelly fraction."]
    limits = RiskLimits.load()
    assert (limits.max_order_cost, limits.kelly_fraction, limits.updated_by) == (
        Decimal("20.5"),
        Decimal("0.1"),
        "operator",
    )
    assert trail() == [
        ("kelly_fraction", "0.25", "0.1", "operator", "dashboard"),
        ("max_order_cost", "10", "20.5", "operator", "dashboard"),
    ]
    assert set(RiskLimitChange.objects.values_list("reason", flat=True)) == {"smaller bets this week"}


def test_saving_what_is_stored_changes_and_records_nothing(staff_client):
    response = staff_client.post(reverse(PAGE), form_data(), follow=True)
    assert messages_of(response) == ["Nothing changed."]
    assert not RiskLimitChange.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"max_order_cost": "lots"}, "max_order_cost", "Max order cost ($): Enter a number."),
        ({"min_price": "0.60", "max_price": "0.50"}, "max_price", "Max price: Need 0 < min price < max price < 1."),
        ({"kelly_fraction": "1.5"}, "kelly_fraction", "Kelly fraction: Kelly fraction must be in (0, 1]."),
        ({"max_total_exposure": "0"}, "max_total_exposure", "Max total open exposure ($): Must be positive."),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(staff_client, changes, field, said):
    before = {name: getattr(RiskLimits.load(), name) for name in UNITS}
    response = staff_client.post(reverse(PAGE), form_data(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert messages_of(response) == [f"Nothing was changed: {said}"]
    assert {name: getattr(RiskLimits.load(), name) for name in UNITS} == before
    assert not RiskLimitChange.objects.exists()


def test_staff_without_the_permission_read_but_cannot_change(viewer):
    html = viewer.get(reverse(PAGE)).content.decode()
    assert 'id="limits-read-only"' in html and 'name="max_order_cost"' not in html and "Save the limits" not in html
    response = viewer.post(reverse(PAGE), form_data(max_order_cost="99"), follow=True)
    assert messages_of(response) == [
        "Refused: Changing the risk limits needs the 'Can change trading state' permission. Nothing was changed."
    ]
    assert RiskLimits.load().max_order_cost == Decimal(10) and not RiskLimitChange.objects.exists()


def test_changes_in_the_admin_are_recorded_too(staff_client):
    limits = RiskLimits.load()
    fields = [
        "max_order_contracts", "max_order_cost", "min_price", "max_price", "max_depth_fraction",
        "max_position_contracts", "max_event_exposure", "max_city_day_exposure", "max_total_exposure",
        "max_daily_loss", "max_drawdown", "max_data_age_minutes", "max_consecutive_exchange_errors",
        "kelly_fraction", "market_shrinkage", "min_edge",
    ]  # fmt: skip
    data = {name: str(plain(getattr(limits, name))) for name in fields} | {"max_drawdown": "120", "_save": "Save"}
    response = staff_client.post(reverse("admin:trading_risklimits_change", args=[limits.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert RiskLimits.load().max_drawdown == Decimal(120)
    assert trail() == [("max_drawdown", "150", "120", "operator", "admin")]


def test_changes_through_the_api_are_recorded_too(client, django_user_model):
    operator = django_user_model.objects.create_user("op", password="pw", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="change_tradingstate"))
    client.force_login(operator)
    response = client.patch("/api/trading/risk-limits/", {"min_edge": "0.05"}, content_type="application/json")
    assert response.status_code == 200
    assert trail() == [("min_edge", "0.03", "0.05", "op", "api")]
    refused = client.patch("/api/trading/risk-limits/", {"kelly_fraction": "2"}, content_type="application/json")
    assert refused.status_code == 400 and "kelly_fraction" in refused.json()["error"]["fields"]
    assert RiskLimitChange.objects.count() == 1


def test_the_service_refuses_what_is_not_a_limit():
    with pytest.raises(ValidationError) as refused:
        update_risk_limits({"updated_by": "mallory"}, actor="x", now=timezone.now(), via="api")
    assert "updated_by" in refused.value.message_dict
    assert RiskLimits.load().updated_by == ""


def test_its_queries_do_not_grow_with_the_trail(staff_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse(PAGE)).status_code == 200
        return len(captured.captured_queries)

    queries()
    before = queries()
    for n in range(1, 15):
        update_risk_limits({"max_order_contracts": Decimal(n)}, actor="a", now=timezone.now(), via="api")
    assert queries() == before
