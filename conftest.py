"""Suite-wide test set-up.

Markers say what a test needs from outside the process. Missing services or
data skip the test with the reason, except when CI asks for them
(REQUIRE_SERVICES=1, REQUIRE_SHARED_DATA=1): then a skip would hide a gap,
so it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent
SHARED_DIR = Path(os.environ.get("KALSHIWEB_SHARED", REPO_ROOT.parent / "shared"))
SHARED_DATA_DIR = SHARED_DIR / "data"
KALSHI_SPEC_DIR = SHARED_DIR / "kalshi"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(item: pytest.Item) -> tuple[str, str] | None:
    """(reason, flag that turns the skip into a failure) for the first unmet need, or None."""
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs REDIS_URL (Redis)", "REQUIRE_SERVICES"
    if (
        item.get_closest_marker("postgres")
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        return "needs DATABASE_URL pointing at PostgreSQL", "REQUIRE_SERVICES"
    if item.get_closest_marker("shared_data") and not SHARED_DATA_DIR.is_dir():
        return f"needs the shared data set at {SHARED_DATA_DIR}", "REQUIRE_SHARED_DATA"
    if item.get_closest_marker("kalshi_spec") and not (KALSHI_SPEC_DIR / "openapi.yaml").is_file():
        return f"needs Kalshi's API specs at {KALSHI_SPEC_DIR}", "REQUIRE_SHARED_DATA"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = _unavailable(item)
    if missing is None:
        return
    reason, flag = missing
    if _flag(flag):
        pytest.fail(f"{reason}, and {flag}=1 says it must run", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    from kalshiweb.celery import app
    from kalshiweb.tests.workers import use_worker_redis

    use_worker_redis(settings, app)

    # Unit tests run tasks inline; tests of real workers switch this off themselves.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    # Pages link the plain static names, served from the apps: no collectstatic, no manifest to go stale.
    plain = {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": plain}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def kalshi_spec_dir() -> Path:
    """../shared/kalshi: Kalshi's OpenAPI and AsyncAPI documents (read by path, never copied)."""
    return KALSHI_SPEC_DIR


@pytest.fixture(scope="session")
def rsa_private_pem() -> bytes:
    """A throwaway 2048-bit RSA key, generated per test session; never stored anywhere."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


UNREADABLE_PEM_BODY = b"bm90IGEga2V5"  # base64 of "not a key"


@pytest.fixture(scope="session")
def unreadable_private_pem(rsa_private_pem: bytes) -> bytes:
    """The generated key's PEM armour around a body that is not a key (no key text is ever committed)."""
    lines = rsa_private_pem.splitlines()
    return b"\n".join([lines[0], UNREADABLE_PEM_BODY, lines[-1]]) + b"\n"


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(username="operator", email="", password="pw-for-tests-only")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def captured_broadcasts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """Record realtime broadcasts instead of sending them."""
    sent: list[dict[str, object]] = []
    monkeypatch.setattr("kalshiweb.realtime.broadcast", lambda payload, group="events": sent.append(dict(payload)))
    yield sent
