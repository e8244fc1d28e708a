from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from trading.models import TradingState, TradingStateChange
from trading.services import TradingStateError, halt_trading, resume_trading, set_trading_state

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def test_a_new_installation_starts_halted():
    state = TradingState.load()
    assert state.state == TradingState.State.HALTED
    assert not state.allows_new_exposure
    assert "review the risk limits" in state.reason


def test_switching_records_who_why_and_when(django_capture_on_commit_callbacks, captured_broadcasts):
    with django_capture_on_commit_callbacks(execute=True):
        resume_trading(reason="limits reviewed", actor="alice", now=NOW)
    state = TradingState.load()
    assert (state.state, state.reason, state.changed_by, state.changed_at) == (
        "active",
        "limits reviewed",
        "alice",
        NOW,
    )
    change = TradingStateChange.objects.get()
    assert (change.from_state, change.to_state, change.actor, change.at) == ("halted", "active", "alice", NOW)
    assert captured_broadcasts == [
        {
            "type": "trading.state",
            "state": "active",
            "label": "Active",
            "reason": "limits reviewed",
            "changed_by": "alice",
            "changed_at": NOW.isoformat(),
        }
    ]


def test_nobody_is_told_about_a_change_that_rolls_back(django_capture_on_commit_callbacks, captured_broadcasts):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                halt_trading(reason="test", actor="bob", now=NOW)
                raise RuntimeError("later step failed")
        except RuntimeError:
            pass
    assert captured_broadcasts == []
    assert not TradingStateChange.objects.exists()


def test_a_reason_and_a_known_state_are_required():
    with pytest.raises(TradingStateError, match="Give a reason"):
        halt_trading(reason="   ", actor="bob", now=NOW)
    with pytest.raises(TradingStateError, match="Unknown trading state 'paused'"):
        set_trading_state(state="paused", reason="x", actor="bob", now=NOW)


def test_the_settings_rows_cannot_be_deleted():
    with pytest.raises(TypeError, match="cannot be deleted"):
        TradingState.load().delete()


class TestAdmin:
    def test_the_list_goes_straight_to_the_switch(self, staff_client):
        response = staff_client.get(reverse("admin:trading_tradingstate_changelist"))
        assert response.status_code == 302
        page = staff_client.get(response["Location"]).content.decode()
        assert "Resume trading" in page
        assert "Switch to reduce-only" in page
        assert "Halt trading" not in page  # already halted

    def test_an_operator_halts_and_resumes_with_a_reason(self, staff_client):
        url = reverse("admin:trading_tradingstate_set_state", args=[TradingState.load().pk])
        staff_client.post(url, {"state": "active", "reason": "go"})
        assert TradingState.load().state == "active"
        response = staff_client.post(url, {"state": "halted", "reason": "CLI report late"}, follow=True)
        assert TradingState.load().state == "halted"
        assert "Trading is now halted." in response.content.decode()
        assert list(TradingStateChange.objects.values_list("actor", flat=True)) == ["operator", "operator"]

    def test_a_switch_without_a_reason_is_refused(self, staff_client):
        url = reverse("admin:trading_tradingstate_set_state", args=[TradingState.load().pk])
        response = staff_client.post(url, {"state": "active", "reason": ""}, follow=True)
        assert "Give a reason" in response.content.decode()
        assert TradingState.load().state == "halted"

    def test_staff_without_permission_can_look_but_not_switch(self, client, django_user_model):
        viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_tradingstate"))
        client.force_login(viewer)
        state = TradingState.load()
        page = client.get(reverse("admin:trading_tradingstate_change", args=[state.pk])).content.decode()
        assert "Resume trading" not in page
        client.post(
            reverse("admin:trading_tradingstate_set_state", args=[state.pk]), {"state": "active", "reason": "x"}
        )
        assert TradingState.load().state == "halted"


class TestApi:
    def test_it_reads_and_switches_the_state(self, staff_client):
        shown = staff_client.get("/api/trading/state/").json()
        assert shown["state"] == "halted" and shown["may_open_positions"] is False
        assert shown["model"] == {
            "ready": False,
            "reason": "no promoted model yet",
            "version": None,
            "trained_at": None,
        }
        assert shown["blocked_by"][1] == "model not ready: no promoted model yet"
        response = staff_client.post("/api/trading/state/", {"state": "reduce_only", "reason": "winding down"})
        assert response.status_code == 200
        assert response.json()["state"] == "reduce_only"
        assert response.json()["changed_by"] == "operator"

    def test_it_validates_input(self, staff_client):
        response = staff_client.post("/api/trading/state/", {"state": "yolo", "reason": "x"})
        assert response.status_code == 400
        assert "state" in response.json()["error"]["fields"]
        response = staff_client.post("/api/trading/state/", {"state": "active", "reason": " "})
        assert response.status_code == 400

    def test_it_is_for_staff_only(self, client, django_user_model):
        assert client.get("/api/trading/state/").status_code == 401
        client.force_login(django_user_model.objects.create_user("user", password="pw"))
        assert client.post("/api/trading/state/", {"state": "active", "reason": "x"}).status_code == 403
        assert TradingState.load().state == "halted"


class TestCommand:
    def test_it_halts_resumes_and_shows(self, capsys):
        call_command("tradingstate", "resume", reason="ready")
        assert TradingState.load().state == "active"
        call_command("tradingstate", "halt", reason="maintenance")
        call_command("tradingstate")
        assert capsys.readouterr().out.strip().endswith("Halted: maintenance")
        latest = TradingStateChange.objects.first()
        assert latest is not None
        assert latest.actor.startswith("cli:")

    def test_it_requires_a_reason(self):
        with pytest.raises(CommandError, match="Give a reason"):
            call_command("tradingstate", "resume")


@pytest.mark.django_db
def test_new_positions_need_an_active_switch_and_a_ready_model():
    from datetime import timedelta

    from prediction.models import ModelVersion
    from trading.services import trading_gate

    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    resume_trading(reason="limits reviewed", actor="ops", now=now)
    gate = trading_gate(now=now)
    assert not gate.may_open_positions and gate.reasons == ("model not ready: no promoted model yet",)
    ModelVersion.objects.create(
        name="bracket-model", version=1, kind="blend", status="promoted", trained_at=now - timedelta(days=1)
    )
    assert trading_gate(now=now).may_open_positions
    stale = trading_gate(now=now + timedelta(days=20))
    assert not stale.may_open_positions and "trained more than 14 days ago" in stale.reasons[0]
    halt_trading(reason="storm", actor="ops", now=now)
    assert trading_gate(now=now).reasons == ("trading is halted: storm",)


class TestOnePermissionRule:
    """Admin, API and command ask the same thing: the 'Can change trading state' permission."""

    def test_staff_without_the_permission_cannot_switch_through_the_api(self, client, django_user_model):
        staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        client.force_login(staff)
        assert client.get("/api/trading/state/").status_code == 200  # staff may look
        refused = client.post("/api/trading/state/", {"state": "active", "reason": "x"})
        assert refused.status_code == 403 and "permission" in refused.json()["error"]["message"]
        assert TradingState.load().state == "halted"
        staff.user_permissions.add(Permission.objects.get(codename="change_tradingstate"))
        client.force_login(django_user_model.objects.get(pk=staff.pk))
        assert client.post("/api/trading/state/", {"state": "active", "reason": "x"}).status_code == 200
        assert TradingState.load().state == "active"

    def test_the_command_acting_for_an_account_needs_the_permission(self, django_user_model):
        django_user_model.objects.create_user("intern", password="pw", is_staff=True)
        with pytest.raises(CommandError, match="intern may not change the trading state"):
            call_command("tradingstate", "resume", "--reason", "x", "--user", "intern")
        with pytest.raises(CommandError, match="No account named 'ghost'"):
            call_command("tradingstate", "resume", "--reason", "x", "--user", "ghost")
        assert TradingState.load().state == "halted"
        boss = django_user_model.objects.create_user("boss", password="pw", is_staff=True)
        boss.user_permissions.add(Permission.objects.get(codename="change_tradingstate"))
        call_command("tradingstate", "resume", "--reason", "checked", "--user", "boss", stdout=io.StringIO())
        assert TradingState.load().state == "active"
        assert TradingStateChange.objects.latest("at").actor == "boss"
