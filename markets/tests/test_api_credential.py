"""The stored Kalshi key: encrypted at rest, write-only in the admin, absent from logs."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from markets.credentials import load_private_key, public_key_fingerprint
from markets.models import ApiCredential

pytestmark = pytest.mark.django_db

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11b1c6e2c7a1"


def body_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


def test_the_private_key_is_encrypted_in_the_database_column(rsa_private_pem):
    credential = ApiCredential.objects.create(
        name="main", environment="PROD", key_id=KEY_ID, private_key=rsa_private_pem.decode()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM markets_apicredential WHERE id = %s", [credential.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("gAAAAA")  # a Fernet token
    assert "PRIVATE KEY" not in raw
    for line in body_lines(rsa_private_pem):
        assert line not in raw
    # ...and it decrypts back to a usable key.
    stored = ApiCredential.objects.get(pk=credential.pk)
    assert load_private_key(stored.private_key, source="db").key_size == 2048


def test_str_and_repr_never_show_the_key(rsa_private_pem):
    credential = ApiCredential(name="main", environment="PROD", key_id=KEY_ID, private_key=rsa_private_pem.decode())
    for text in (str(credential), repr(credential)):
        assert "PRIVATE" not in text
        assert KEY_ID not in text
        assert "…c7a1" in text


def add_via_admin(client, **fields):
    data = {"name": "main", "environment": "PROD", "is_active": "on", "new_key_id": KEY_ID, **fields}
    return client.post(reverse("admin:markets_apicredential_add"), data)


def test_an_operator_uploads_a_key_file(staff_client, rsa_private_pem, caplog):
    caplog.set_level(logging.DEBUG)
    upload = SimpleUploadedFile("kalshi.key", rsa_private_pem, content_type="application/x-pem-file")
    response = add_via_admin(staff_client, private_key_file=upload)
    assert response.status_code == 302, response.content.decode()[:2000]
    credential = ApiCredential.objects.get(name="main")
    assert credential.key_id == KEY_ID
    assert credential.public_key_fingerprint == public_key_fingerprint(load_private_key(rsa_private_pem, source="t"))
    for line in body_lines(rsa_private_pem):
        assert line not in caplog.text


def test_the_admin_never_renders_the_key_or_the_full_key_id(staff_client, rsa_private_pem):
    credential = ApiCredential.objects.create(
        name="main",
        environment="PROD",
        key_id=KEY_ID,
        private_key=rsa_private_pem.decode(),
        public_key_fingerprint="SHA256:abc",
    )
    pages = [
        staff_client.get(reverse("admin:markets_apicredential_changelist")),
        staff_client.get(reverse("admin:markets_apicredential_change", args=[credential.pk])),
        staff_client.get(reverse("admin:markets_apicredential_history", args=[credential.pk])),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "PRIVATE KEY" not in html
        assert KEY_ID not in html
        for line in body_lines(rsa_private_pem):
            assert line not in html
    assert "…c7a1" in pages[0].content.decode()


def test_a_bad_key_is_refused_on_the_form_and_the_stored_key_is_kept(
    staff_client, rsa_private_pem, unreadable_private_pem
):
    credential = ApiCredential.objects.create(
        name="main", environment="PROD", key_id=KEY_ID, private_key=rsa_private_pem.decode()
    )
    url = reverse("admin:markets_apicredential_change", args=[credential.pk])
    upload = SimpleUploadedFile("broken.pem", unreadable_private_pem)
    response = staff_client.post(
        url, {"name": "main", "environment": "PROD", "is_active": "on", "private_key_file": upload}
    )
    assert response.status_code == 200
    assert "The submitted private key: the PEM data is not a readable private key" in response.content.decode()
    assert ApiCredential.objects.get(pk=credential.pk).private_key == rsa_private_pem.decode()


def test_leaving_the_secret_fields_blank_keeps_the_stored_key(staff_client, rsa_private_pem):
    credential = ApiCredential.objects.create(
        name="main", environment="PROD", key_id=KEY_ID, private_key=rsa_private_pem.decode()
    )
    url = reverse("admin:markets_apicredential_change", args=[credential.pk])
    response = staff_client.post(url, {"name": "renamed", "environment": "PROD", "is_active": "on"})
    assert response.status_code == 302
    stored = ApiCredential.objects.get(pk=credential.pk)
    assert (stored.name, stored.key_id, stored.private_key) == ("renamed", KEY_ID, rsa_private_pem.decode())


def test_a_new_credential_needs_both_the_id_and_the_key(staff_client):
    response = staff_client.post(reverse("admin:markets_apicredential_add"), {"name": "x", "environment": "DEMO"})
    html = response.content.decode()
    assert "A new credential needs its key id." in html
    assert "A new credential needs its private key" in html
    assert not ApiCredential.objects.exists()


def test_pasting_the_key_works_too(staff_client, rsa_private_pem):
    response = add_via_admin(staff_client, private_key_pem=rsa_private_pem.decode())
    assert response.status_code == 302
    assert ApiCredential.objects.get().private_key == rsa_private_pem.decode().strip()


def test_only_one_key_is_active_per_exchange(rsa_private_pem):
    from django.db import IntegrityError

    ApiCredential.objects.create(name="a", environment="DEMO", key_id="k1", private_key=rsa_private_pem.decode())
    ApiCredential.objects.create(name="b", environment="PROD", key_id="k2", private_key=rsa_private_pem.decode())
    with pytest.raises(IntegrityError):
        ApiCredential.objects.create(name="c", environment="DEMO", key_id="k3", private_key=rsa_private_pem.decode())


@pytest.mark.parametrize(
    "problem",
    [{"new_key_id": ""}, {"name": ""}, {"new_key_id": "not-a-uuid"}],
    ids=["missing key id", "missing name", "key id not a uuid"],
)
def test_a_form_failing_for_another_reason_never_renders_the_pasted_key(staff_client, rsa_private_pem, problem):
    response = add_via_admin(staff_client, private_key_pem=rsa_private_pem.decode(), **problem)
    html = response.content.decode()
    assert response.status_code == 200 and "errornote" in html
    assert "PRIVATE KEY" not in html
    for line in body_lines(rsa_private_pem):
        assert line not in html
    assert not ApiCredential.objects.exists()


def test_a_key_id_must_be_a_uuid(staff_client, rsa_private_pem):
    response = add_via_admin(staff_client, private_key_pem=rsa_private_pem.decode(), new_key_id="my key")
    assert "The key id Kalshi shows is a UUID" in response.content.decode()
    response = add_via_admin(staff_client, private_key_pem=rsa_private_pem.decode(), new_key_id=KEY_ID.upper())
    assert response.status_code == 302
    assert ApiCredential.objects.get().key_id == KEY_ID
