"""First-run onboarding: a key (DEMO first, tested against the local exchange), the cities, a first DRY cycle."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from localexchange.exchange import Exchange
from markets.credentials import load_private_key
from markets.models import ApiCredential
from trading.models import TradingCycle
from trading.tests.exchange import MEMBER, served
from weather.models import City
from weather.tests.factories import CityFactory

pytestmark = pytest.mark.django_db

PAGE = "dashboard-onboarding"
KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11b1c6e2c7a1"


@pytest.fixture
def viewer(client, django_user_model):
    """Staff with no permission at all."""
    client.force_login(django_user_model.objects.create_user("viewer", password="pw", is_staff=True))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def store_key(pem: bytes, *, key_id: str = MEMBER, environment: str = "DEMO") -> ApiCredential:
    return ApiCredential.objects.create(
        name=environment.lower(),
        environment=environment,
        key_id=key_id,
        private_key=pem.decode(),
        public_key_fingerprint="fp",
    )


def steps(client) -> dict[int, bool]:
    return {step.number: step.done for step in client.get(reverse(PAGE)).context["steps"]}


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(reverse(PAGE))["Location"].startswith("/admin/login/")
    response = client.post(reverse(PAGE), {"action": "cities"})
    assert response["Location"].startswith("/admin/login/")


def test_each_step_says_done_or_not_from_what_is_stored(staff_client, rsa_private_pem):
    City.objects.update(is_active=False)
    assert steps(staff_client) == {1: False, 2: False, 3: False}
    store_key(rsa_private_pem)
    CityFactory.create(name="Testville")
    TradingCycle.objects.create(mode="DRY", strategy="model-taker", as_of="2025-02-28T15:00Z", outcome="done")
    assert steps(staff_client) == {1: True, 2: True, 3: True}
    html = staff_client.get(reverse("home")).content.decode()
    assert 'id="setup-incomplete"' not in html  # the status page stops pointing here once everything is done


def test_the_status_page_links_here_while_set_up_is_incomplete(staff_client):
    html = staff_client.get(reverse("home")).content.decode()
    assert 'id="setup-incomplete"' in html and f'href="{reverse(PAGE)}"' in html


def test_an_operator_stores_a_demo_key_and_it_is_never_shown_again(staff_client, rsa_private_pem):
    upload = SimpleUploadedFile("kalshi.key", rsa_private_pem, content_type="application/x-pem-file")
    data = {"action": "add_key", "name": "demo", "environment": "DEMO", "is_active": "on", "new_key_id": KEY_ID}
    response = staff_client.post(reverse(PAGE), {**data, "private_key_file": upload}, follow=True)
    [said] = messages_of(response)
    assert said.startswith("Stored Demo key …c7a1 (SHA256:") and said.endswith("Test the connection next.")
    credential = ApiCredential.objects.get()
    assert (credential.environment, credential.key_id) == ("DEMO", KEY_ID)
    html = response.content.decode()
    assert "PRIVATE KEY" not in html and KEY_ID not in html


def test_a_bad_key_is_refused_naming_the_field_and_the_paste_is_not_shown_back(staff_client, unreadable_private_pem):
    pasted = unreadable_private_pem.decode()
    data = {"action": "add_key", "name": "demo", "environment": "DEMO", "is_active": "on", "new_key_id": KEY_ID}
    response = staff_client.post(reverse(PAGE), {**data, "private_key_pem": pasted})
    assert response.status_code == 400
    assert "private_key_pem" in response.context["form"].errors
    html = response.content.decode()
    assert "not a readable private key" in html and "bm90IGEga2V5" not in html
    assert not ApiCredential.objects.exists()


def test_the_connection_test_makes_a_signed_call_to_the_exchange_and_says_the_balance(staff_client, rsa_private_pem):
    key = load_private_key(rsa_private_pem, source="test")
    credential = store_key(rsa_private_pem)
    exchange = Exchange()
    exchange.member(MEMBER).balance = Decimal("250")
    with served(exchange, key) as running, override_settings(KALSHI_DEMO_BASE=running.urls.rest_url):
        response = staff_client.post(reverse(PAGE), {"action": "test_key", "credential": credential.pk}, follow=True)
    assert messages_of(response) == [
        f"Connected to Kalshi's demo exchange with key {credential.masked_key_id}: balance $250.00, portfolio $0.00."
    ]
    credential.refresh_from_db()
    assert credential.last_used_at is not None


def test_a_key_the_exchange_does_not_know_is_reported_in_plain_words(staff_client, rsa_private_pem):
    credential = store_key(rsa_private_pem)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with served(Exchange(), other) as running, override_settings(KALSHI_DEMO_BASE=running.urls.rest_url):
        response = staff_client.post(reverse(PAGE), {"action": "test_key", "credential": credential.pk}, follow=True)
    [said] = messages_of(response)
    assert said.startswith(f"Kalshi's demo exchange refused key {credential.masked_key_id}")
    assert "belong together" in said
    credential.refresh_from_db()
    assert credential.last_used_at is None


def test_an_exchange_that_cannot_be_reached_is_reported(staff_client, rsa_private_pem):
    credential = store_key(rsa_private_pem)
    with override_settings(KALSHI_DEMO_BASE="http://127.0.0.1:9/trade-api/v2"):  # discard port: nothing listens
        response = staff_client.post(reverse(PAGE), {"action": "test_key", "credential": credential.pk}, follow=True)
    [said] = messages_of(response)
    assert said.startswith("Could not get an answer from Kalshi's demo exchange:")


def test_an_operator_chooses_the_cities(staff_client):
    City.objects.update(is_active=False)
    keep, drop = CityFactory.create(name="Keepville", is_active=False), CityFactory.create(name="Dropville")
    unverified = CityFactory.create(name="Maybeville", is_active=False, station_verified=False)
    response = staff_client.post(reverse(PAGE), {"action": "cities", "city": [keep.pk, unverified.pk]}, follow=True)
    assert messages_of(response) == [
        "1 active city: Keepville.",
        "Not activated, settlement station unverified: Maybeville.",
    ]
    assert list(City.objects.active().values_list("name", flat=True)) == ["Keepville"]
    drop.refresh_from_db()
    assert not drop.is_active


@override_settings(TRADING_MODE="DRY")
def test_an_operator_runs_a_first_dry_cycle(staff_client):
    response = staff_client.post(reverse(PAGE), {"action": "dry_cycle"}, follow=True)
    cycle = TradingCycle.objects.get(mode="DRY")
    [said] = messages_of(response)
    assert said.startswith(f"DRY cycle at {cycle.as_of:%H:%M:%S} UTC: {cycle.get_outcome_display().lower()};")
    assert f'href="{reverse("dashboard-markets")}"' in response.content.decode()


@override_settings(TRADING_MODE="DEMO", KALSHI_ENV="DEMO")
def test_no_cycle_runs_from_here_outside_dry(staff_client):
    response = staff_client.post(reverse(PAGE), {"action": "dry_cycle"}, follow=True)
    assert messages_of(response) == ["This installation trades DEMO: only a DRY cycle runs from here."]
    assert not TradingCycle.objects.exists()


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("add_key", "Adding a Kalshi key needs the 'Can add API credential' permission."),
        ("test_key", "Testing a Kalshi key needs the 'Can add API credential' permission."),
        ("cities", "Choosing cities needs the 'Can change city' permission."),
        ("dry_cycle", "Running a trading cycle needs the 'Can change trading state' permission."),
    ],
)
def test_staff_without_the_permission_are_refused_with_the_reason(viewer, action, reason):
    active = set(City.objects.active().values_list("pk", flat=True))
    response = viewer.post(reverse(PAGE), {"action": action, "name": "x", "new_key_id": "k"}, follow=True)
    assert messages_of(response) == [f"Refused: {reason}"]
    assert not ApiCredential.objects.exists() and not TradingCycle.objects.exists()
    assert set(City.objects.active().values_list("pk", flat=True)) == active


def test_staff_with_only_the_city_permission_may_choose_cities(viewer, django_user_model):
    user = django_user_model.objects.get(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="change_city"))
    response = viewer.post(reverse(PAGE), {"action": "cities", "city": []}, follow=True)
    assert messages_of(response) == ["0 active cities: none."]


def test_its_queries_do_not_grow_with_keys_and_cities(staff_client, rsa_private_pem):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse(PAGE)).status_code == 200
        return len(captured.captured_queries)

    store_key(rsa_private_pem)
    before = queries()
    store_key(rsa_private_pem, environment="PROD")
    for n in range(5):
        CityFactory.create(name=f"More {n}")
    assert queries() == before


@override_settings(KALSHI_API_KEY_ID="0c5e3a1b-env-key-9f2d")
def test_a_key_from_the_environment_counts_as_connected(staff_client):
    step = staff_client.get(reverse(PAGE)).context["steps"][0]
    assert step.done and "key …9f2d from the environment" in step.detail


def test_it_says_a_halted_cycle_only_logs_refusals(staff_client):
    assert 'id="halted-note"' in staff_client.get(reverse(PAGE)).content.decode()  # a new installation is halted
