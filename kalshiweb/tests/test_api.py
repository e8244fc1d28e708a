from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from kalshiweb.api import ENDPOINTS

pytestmark = pytest.mark.django_db


def test_an_anonymous_request_is_401_in_the_one_error_shape(client):
    response = client.get("/api/markets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }


def test_a_non_staff_user_is_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("user", password="pw"))
    response = client.get("/api/cities/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_unknown_object_is_404_in_the_error_shape(staff_client):
    response = staff_client.get("/api/orders/999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_root_lists_every_endpoint(staff_client):
    listed = staff_client.get("/api/").json()
    assert set(listed) == {label for label, _ in ENDPOINTS}
    assert listed["markets"].endswith("/api/markets/")


def test_a_token_authenticates_and_the_token_endpoint_is_throttled(staff_user):
    cache.clear()
    api = APIClient()
    response = api.post(reverse("api-token"), {"username": "operator", "password": "pw-for-tests-only"})
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/cities/").status_code == 200
    guesses = [
        APIClient().post(reverse("api-token"), {"username": "operator", "password": "wrong"}).status_code
        for _ in range(12)
    ]
    assert guesses[0] == 400 and guesses[-1] == 429
    cache.clear()


def test_the_schema_is_openapi_with_every_path():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["openapi"].startswith("3.")
    for path in ["/api/markets/", "/api/predictions/", "/api/trading/risk-limits/", "/api/decisions/", "/api/health/"]:
        assert path in schema["paths"]


def test_the_schema_endpoint_serves_it(staff_client):
    response = staff_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/orders/" in response.json()["paths"]


def test_the_docs_load_from_our_static_files_not_a_cdn(staff_client):
    page = staff_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


def test_health_wraps_the_report(staff_client):
    response = staff_client.get("/api/health/")
    assert response.status_code in {200, 503}
    assert "components" in response.json()


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/risk-limits/" not in (tmp_path / "schema.yml").read_text()  # it lives under trading/
    assert "/api/trading/risk-limits/" in (tmp_path / "schema.yml").read_text()
