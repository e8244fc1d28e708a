from __future__ import annotations

import base64

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


def test_an_unknown_api_path_is_404_in_the_error_shape_and_pages_stay_html(staff_client):
    response = staff_client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No endpoint at this path."}}
    page = staff_client.get("/dashboard/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_missing_slash_under_api_still_redirects(staff_client):
    response = staff_client.get("/api/orders")
    assert response.status_code == 301 and response["Location"] == "/api/orders/"


def test_a_bug_under_api_is_500_in_the_error_shape(staff_client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("kalshiweb.api.run_health_checks", broken)
    staff_client.raise_request_exception = False
    response = staff_client.get("/api/health/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "Server error."}}


def test_throttling_is_429_with_retry_after_in_the_error_shape(staff_user):
    cache.clear()
    guesses = [APIClient().post(reverse("api-token"), {"username": "operator", "password": "x"}) for _ in range(11)]
    throttled = guesses[-1]
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["error"]["code"] == "throttled"
    cache.clear()


def test_a_malformed_body_is_400_and_an_unknown_media_type_415(staff_client):
    bad = staff_client.post("/api/orders/cancel/", "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "parse_error"
    odd = staff_client.post("/api/orders/cancel/", "x", content_type="text/csv")
    assert odd.status_code == 415 and odd.json()["error"]["code"] == "unsupported_media_type"


def test_the_schema_documents_the_one_error_shape_on_every_error():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    orders = schema["paths"]["/api/orders/"]["get"]["responses"]
    assert {"400", "401", "403", "404"} <= set(orders) and orders["400"]["content"] == error
    detail = schema["paths"]["/api/orders/{id}/"]["get"]["responses"]
    assert "404" in detail and "400" not in detail  # a detail takes no query: only a missing object fails
    cancel = schema["paths"]["/api/orders/cancel/"]["post"]["responses"]
    assert cancel["409"]["content"] == error and cancel["503"]["content"] == error
    token = schema["paths"]["/api/auth/token/"]["post"]["responses"]
    assert "429" in token and "401" not in token


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_basic_authentication_is_refused_401_alike_for_a_right_and_a_wrong_password(staff_user):
    """Basic credentials are never checked (no unthrottled password guessing): right or wrong, one answer."""
    cache.clear()
    answers = [
        APIClient().get("/api/orders/", HTTP_AUTHORIZATION=_basic(staff_user.username, password))
        for password in ("pw-for-tests-only", "wrong")  # the staff_user fixture's password, then not
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json() and answers[0]["WWW-Authenticate"] == "Token"


def test_the_token_endpoint_says_the_same_for_a_wrong_password_and_an_unknown_user(staff_user):
    cache.clear()
    wrong = APIClient().post(reverse("api-token"), {"username": staff_user.username, "password": "wrong"})
    unknown = APIClient().post(reverse("api-token"), {"username": "nobody", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert "password" not in wrong.json()["error"]["message"].lower()
    cache.clear()
