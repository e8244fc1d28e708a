from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from kalshiweb.env import (
    env_bool,
    env_choice,
    env_database,
    env_http_url,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    env_uuid,
    env_ws_url,
    mask_url_password,
)
from kalshiweb.modes import KalshiEnvironment, TradingMode, resolve_kalshi_environment


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("off", False)]
)
def test_it_parses_booleans(raw, expected):
    assert env_bool("FLAG", default=not expected, environ={"FLAG": raw}) is expected


def test_it_uses_the_default_for_unset_or_blank_values():
    assert env_bool("FLAG", default=True, environ={}) is True
    assert env_bool("FLAG", default=True, environ={"FLAG": "  "}) is True
    assert env_str("NAME", "fallback", environ={"NAME": ""}) == "fallback"


def test_it_rejects_an_ambiguous_boolean_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"ENABLE_MICRO_FEATS='maybe' is invalid"):
        env_bool("ENABLE_MICRO_FEATS", default=False, environ={"ENABLE_MICRO_FEATS": "maybe"})


def test_it_checks_integer_bounds():
    assert env_int("REST_PAGE_SIZE", 500, minimum=1, maximum=1000, environ={"REST_PAGE_SIZE": "200"}) == 200
    with pytest.raises(ImproperlyConfigured, match="between 1 and 1000"):
        env_int("REST_PAGE_SIZE", 500, minimum=1, maximum=1000, environ={"REST_PAGE_SIZE": "5000"})
    with pytest.raises(ImproperlyConfigured, match="an integer"):
        env_int("REST_PAGE_SIZE", 500, environ={"REST_PAGE_SIZE": "12.5"})


def test_it_parses_choices_case_insensitively_and_lists_the_options():
    assert (
        env_choice("TRADING_MODE", TradingMode, TradingMode.DRY, environ={"TRADING_MODE": "demo"}) is TradingMode.DEMO
    )
    with pytest.raises(ImproperlyConfigured, match="TRADING_MODE='YOLO' is invalid: expected one of DRY, DEMO, LIVE"):
        env_choice("TRADING_MODE", TradingMode, TradingMode.DRY, environ={"TRADING_MODE": "YOLO"})


def test_it_splits_lists():
    assert env_list("HOSTS", ["a"], environ={"HOSTS": " x.com, ,y.com "}) == ["x.com", "y.com"]
    assert env_list("HOSTS", ["a"], environ={}) == ["a"]


def test_it_masks_url_passwords():
    assert mask_url_password("postgres://u:s3cret@db:5432/x") == "postgres://u:***@db:5432/x"
    assert mask_url_password("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert mask_url_password("sqlite:///var/db.sqlite3") == "sqlite:///var/db.sqlite3"


class TestDatabaseUrl:
    def test_it_accepts_postgres_and_sqlite(self):
        pg = env_database("DATABASE_URL", "", environ={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"})
        assert pg["ENGINE"] == "django.db.backends.postgresql"
        assert pg["NAME"] == "test"
        lite = env_database("DATABASE_URL", "sqlite:////tmp/x.sqlite3", environ={})
        assert lite["ENGINE"] == "django.db.backends.sqlite3"

    @pytest.mark.parametrize(
        "url",
        ["garbage", "http://example.com/db", "postgres://u:secret@host:notaport/db", "mysql://u:secret@h/db"],
    )
    def test_it_rejects_malformed_or_unsupported_urls_without_echoing_the_password(self, url):
        with pytest.raises(ImproperlyConfigured) as excinfo:
            env_database("DATABASE_URL", "", environ={"DATABASE_URL": url})
        message = str(excinfo.value)
        assert "DATABASE_URL" in message
        assert "secret" not in message

    @pytest.mark.parametrize("url", ["postgres://", "sqlite://"])
    def test_it_requires_a_database_name(self, url):
        with pytest.raises(ImproperlyConfigured, match="no database name"):
            env_database("DATABASE_URL", "", environ={"DATABASE_URL": url})


def test_it_validates_redis_urls():
    assert env_redis_url("REDIS_URL", environ={"REDIS_URL": "redis://127.0.0.1:6379/0"}) == "redis://127.0.0.1:6379/0"
    assert env_redis_url("REDIS_URL", environ={}) is None
    for bad in ["localhost:6379", "http://h:6379", "redis://:pw@h:port/0"]:
        with pytest.raises(ImproperlyConfigured, match="REDIS_URL") as excinfo:
            env_redis_url("REDIS_URL", environ={"REDIS_URL": bad})
        assert "pw@" not in str(excinfo.value)


def test_it_validates_http_urls():
    assert env_http_url("KALSHI_API_BASE", "https://a.b/trade-api/v2/", environ={}) == "https://a.b/trade-api/v2"
    with pytest.raises(ImproperlyConfigured, match="KALSHI_API_BASE"):
        env_http_url("KALSHI_API_BASE", "", environ={"KALSHI_API_BASE": "ftp://x"})


def test_exchange_urls_must_use_tls_unless_they_point_at_this_machine():
    for name, reader, plain, secure in (
        ("KALSHI_API_BASE", env_http_url, "http", "https"),
        ("KALSHI_WS_BASE", env_ws_url, "ws", "wss"),
    ):
        default = f"{secure}://external-api.kalshi.com/trade-api/v2"
        for host in ("127.0.0.1:8765", "localhost", "[::1]:9000"):
            local = f"{plain}://{host}/trade-api/v2"
            assert reader(name, default, environ={name: local}, tls_off_loopback=True) == local
        with pytest.raises(ImproperlyConfigured, match=rf"{name}=.*expected a {secure}:// URL"):
            reader(
                name, default, environ={name: f"{plain}://external-api.kalshi.com/trade-api/v2"}, tls_off_loopback=True
            )


def test_kalshi_key_ids_must_be_uuids():
    key_id = "0B6C9A52-6E0F-4D1E-9D55-2F1A1C5F4E3B"
    assert env_uuid("KALSHI_API_KEY_ID", environ={"KALSHI_API_KEY_ID": key_id}) == key_id.lower()
    assert env_uuid("KALSHI_API_KEY_ID", environ={}) is None
    with pytest.raises(ImproperlyConfigured, match="KALSHI_API_KEY_ID='my-key' is invalid: expected a UUID"):
        env_uuid("KALSHI_API_KEY_ID", environ={"KALSHI_API_KEY_ID": "my-key"})


def test_websocket_urls_need_a_ws_scheme_a_host_and_a_path():
    default = "wss://external-api-ws.kalshi.com/trade-api/ws/v2/"
    assert env_ws_url("KALSHI_WS_BASE", default, environ={}) == default.rstrip("/")
    local = {"KALSHI_WS_BASE": "ws://127.0.0.1:8765/trade-api/ws/v2"}
    assert env_ws_url("KALSHI_WS_BASE", default, environ=local) == local["KALSHI_WS_BASE"]
    for bad in ("https://external-api-ws.kalshi.com/trade-api/ws/v2", "wss://external-api-ws.kalshi.com", "wss:///x"):
        with pytest.raises(ImproperlyConfigured, match="KALSHI_WS_BASE"):
            env_ws_url("KALSHI_WS_BASE", default, environ={"KALSHI_WS_BASE": bad})


class TestKalshiEnvironment:
    def test_dry_reads_production_by_default_and_demo_on_request(self):
        assert resolve_kalshi_environment(TradingMode.DRY, None) is KalshiEnvironment.PROD
        assert resolve_kalshi_environment(TradingMode.DRY, KalshiEnvironment.DEMO) is KalshiEnvironment.DEMO

    def test_demo_and_live_pick_their_exchange(self):
        assert resolve_kalshi_environment(TradingMode.DEMO, None) is KalshiEnvironment.DEMO
        assert resolve_kalshi_environment(TradingMode.LIVE, None) is KalshiEnvironment.PROD

    @pytest.mark.parametrize(
        ("mode", "env"), [(TradingMode.DEMO, KalshiEnvironment.PROD), (TradingMode.LIVE, KalshiEnvironment.DEMO)]
    )
    def test_it_refuses_contradictions(self, mode, env):
        with pytest.raises(ValueError, match="contradicts"):
            resolve_kalshi_environment(mode, env)
