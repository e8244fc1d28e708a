"""HTTP hardening: the content security policy, request ids and the access log, caching, /metrics,
the TLS settings, and the documented production settings passing `check --deploy`."""

from __future__ import annotations

import logging
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from kalshiweb.env import env_networks

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]


def pages_without_arguments() -> list[str]:
    from django.urls import reverse

    from dashboard import urls

    return ["/", *(reverse(p.name) for p in urls.urlpatterns if p.name and not p.pattern.regex.groups)]


def test_every_page_has_a_policy_with_a_fresh_nonce_that_our_inline_scripts_carry(admin_client):
    for url in pages_without_arguments():
        first = admin_client.get(url)
        if first.status_code == 405:
            continue  # an action (POST only), not a page
        assert first.status_code in (200, 400), url  # compare without runs says what to choose
        policy = first["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        found = re.search(r"'nonce-([^']+)'", policy)
        assert found, policy
        nonce = found.group(1)
        assert nonce not in admin_client.get(url)["Content-Security-Policy"]
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.content.decode())
        unmarked = [a for a in inline if f'nonce="{nonce}"' not in a and 'type="application/json"' not in a]
        assert not unmarked, (url, unmarked)


def test_a_policy_can_be_set_or_turned_off(admin_client, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'none'"
    assert admin_client.get("/health/")["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in admin_client.get("/health/")


def test_each_request_gets_an_id_in_its_answer_and_its_access_line(admin_client, caplog):
    caplog.set_level(logging.INFO, logger="kalshiweb.access")
    response = admin_client.get("/health/?token=not-for-logs")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    line = next(r for r in caplog.records if r.name == "kalshiweb.access")
    assert line.getMessage().startswith("GET /health/ ")
    assert f"user=admin id={request_id}" in line.getMessage()
    assert "not-for-logs" not in caplog.text
    assert line.request_id == request_id  # every record during the request carries it


def test_a_proxys_request_id_is_kept_only_when_it_is_plain(admin_client):
    assert admin_client.get("/health/", HTTP_X_REQUEST_ID="lb-4f2a.91")["X-Request-ID"] == "lb-4f2a.91"
    forged = admin_client.get("/health/", HTTP_X_REQUEST_ID="x\nINFO forged")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_pages_and_answers_are_not_cached_but_static_files_are(admin_client):
    for url in ("/", "/health/", "/api/", "/dashboard/markets/"):
        cache_control = admin_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url
    static = Client().get("/static/vendor/htmx.min.js")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


class TestMetrics:
    def test_it_is_served_to_this_machine_by_default(self, client):
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
        assert response.status_code == 200
        assert "kalshiweb_trading_state" in response.content.decode()

    def test_it_is_refused_to_other_networks(self, client):
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 403
        assert "kalshiweb_trading_state" not in response.content.decode()

    def test_allowed_networks_are_configurable(self, client, settings):
        settings.METRICS_ALLOWED_NETWORKS = env_networks("X", [], environ={"X": "10.0.0.0/8"})
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403

    def test_with_a_token_it_is_needed_from_everywhere(self, client, settings):
        settings.METRICS_TOKEN = "s3cret-scrape-token-0123"
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
        wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess", REMOTE_ADDR="127.0.0.1")
        assert wrong.status_code == 403
        right = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}", REMOTE_ADDR="203.0.113.7")
        assert right.status_code == 200


def test_tls_settings_redirect_plain_http_and_trust_only_the_configured_proxy_header(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/health/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/health/"
    proxied = client.get("/health/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code in (200, 503)
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"


def test_a_bad_network_list_stops_start_up_naming_the_variable():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"METRICS_ALLOWED_NETWORKS='10\.0\.0\.300/8' is invalid"):
        env_networks("METRICS_ALLOWED_NETWORKS", [], environ={"METRICS_ALLOWED_NETWORKS": "10.0.0.300/8"})


def production_environment(tmp_path: Path) -> dict[str, str]:
    """deploy/production.env with its CHANGE placeholders filled in as an operator would."""
    fills = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "DATABASE_URL": "postgres://kalshiweb:pw@127.0.0.1:5432/kalshiweb",
    }
    environ = {}
    for line in (REPO_ROOT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            environ[name] = fills[name] if "CHANGE" in value else value
    assert not [value for value in environ.values() if "CHANGE" in value]
    return {"KALSHIWEB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", **environ}


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
