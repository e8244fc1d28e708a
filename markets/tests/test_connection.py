from __future__ import annotations

import httpx
import pytest

from kalshiweb.modes import KalshiEnvironment, TradingMode
from markets.connection import client_config, kalshi_client, refresh_rate_limits
from markets.errors import AuthError
from markets.models import ApiCredential
from markets.ratelimit import Limits
from markets.signing import KEY_HEADER, SIGNATURE_HEADER

DEMO_URL = "https://external-api.demo.kalshi.co/trade-api/v2"


class Exchange:
    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "GET":
            pytest.fail(f"unexpected {request.method} {request.url}")
        answer = self.answers[request.url.path.removeprefix("/trade-api/v2")]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)


@pytest.fixture
def no_env_key(settings):
    settings.KALSHI_API_KEY_ID = settings.KALSHI_PRIVATE_KEY_PATH = None


@pytest.mark.django_db
@pytest.mark.usefixtures("no_env_key")
def test_without_a_key_public_data_works_and_private_data_explains_what_to_do():
    exchange = Exchange({"/exchange/status": {"exchange_active": True, "trading_active": True}})
    with kalshi_client(transport=httpx.MockTransport(exchange)) as client:
        assert client.config.signer is None
        assert client.get_exchange_status().exchange_active is True
        with pytest.raises(AuthError) as info:
            client.get_balance()
    assert "set KALSHI_API_KEY_ID/KALSHI_PRIVATE_KEY_PATH or add one in the admin" in str(info.value)
    assert [r.url.path for r in exchange.requests] == ["/trade-api/v2/exchange/status"]


@pytest.mark.django_db
@pytest.mark.usefixtures("no_env_key")
def test_the_config_follows_settings(settings):
    settings.TRADING_MODE = TradingMode.DEMO
    settings.KALSHI_ENV = KalshiEnvironment.DEMO
    settings.KALSHI_BASE_URL = DEMO_URL
    settings.REST_PAGE_SIZE = 250
    config = client_config()
    assert (config.mode, config.environment, config.base_url, config.page_size) == (
        TradingMode.DEMO,
        KalshiEnvironment.DEMO,
        DEMO_URL,
        250,
    )


def test_a_key_from_the_environment_signs_requests(settings, tmp_path, rsa_private_pem):
    key_file = tmp_path / "kalshi.pem"
    key_file.write_bytes(rsa_private_pem)
    settings.KALSHI_API_KEY_ID, settings.KALSHI_PRIVATE_KEY_PATH = "env-key-id-0001", str(key_file)
    exchange = Exchange({"/portfolio/balance": {"balance": 2500, "portfolio_value": 0, "updated_ts": 1772463600}})
    with kalshi_client(transport=httpx.MockTransport(exchange)) as client:
        assert str(client.get_balance().balance) == "25.00"
    headers = exchange.requests[0].headers
    assert headers[KEY_HEADER] == "env-key-id-0001"
    assert headers[SIGNATURE_HEADER]


@pytest.mark.django_db
@pytest.mark.usefixtures("no_env_key")
def test_a_key_stored_in_the_admin_signs_requests_and_limits_refresh(settings, rsa_private_pem):
    settings.KALSHI_ENV = KalshiEnvironment.PROD
    ApiCredential.objects.create(
        name="prod", environment="PROD", key_id="admin-key-id-0002", private_key=rsa_private_pem.decode()
    )
    exchange = Exchange({"/account/limits": {"usage_tier": "premier", "read_limit": 100, "write_limit": 100}})
    with kalshi_client(transport=httpx.MockTransport(exchange), refresh_limits=True) as client:
        assert client.limiter.limits == Limits(read_per_second=100, write_per_second=100)
    assert exchange.requests[0].headers[KEY_HEADER] == "admin-key-id-0002"


@pytest.mark.django_db
@pytest.mark.usefixtures("no_env_key")
def test_refreshing_limits_is_skipped_without_a_key():
    exchange = Exchange({"/account/limits": httpx.Response(503)})
    with kalshi_client(transport=httpx.MockTransport(exchange)) as client:
        assert refresh_rate_limits(client) is None
    assert exchange.requests == []
