"""Failed sign-ins at the admin's login (where sessions start) are throttled; successful ones never are."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def attempt(client, password: str):
    return client.post(LOGIN, {"username": "operator", "password": password, "next": "/"})


def test_ten_failures_a_minute_then_429_with_retry_after(client, staff_user):
    failures = [attempt(client, "wrong").status_code for _ in range(10)]
    assert failures == [200] * 10  # the form again, with its error
    refused = attempt(client, "pw-for-tests-only")  # even the right password waits
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many failed sign-in attempts" in page and 'class="mode-' in page  # the base page, mode banner
    assert "_auth_user_id" not in client.session


def test_successful_sign_ins_are_never_counted(client, staff_user):
    for _ in range(12):
        assert attempt(client, "pw-for-tests-only").status_code == 302
        client.logout()
    assert attempt(client, "wrong").status_code == 200


def test_another_address_is_not_held_back(client, staff_user):
    for _ in range(10):
        attempt(client, "wrong")
    other = client.post(
        LOGIN, {"username": "operator", "password": "pw-for-tests-only", "next": "/"}, REMOTE_ADDR="10.0.0.2"
    )
    assert other.status_code == 302


def test_the_login_form_still_shows(client):
    assert client.get(LOGIN).status_code == 200
