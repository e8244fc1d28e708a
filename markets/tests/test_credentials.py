from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kalshiweb.modes import KalshiEnvironment
from markets.credentials import (
    CredentialError,
    load_private_key,
    load_private_key_file,
    public_key_fingerprint,
    resolve_credentials,
)
from markets.models import ApiCredential


def pem_of(key, password: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def test_it_loads_an_rsa_key_and_fingerprints_it(rsa_private_pem):
    key = load_private_key(rsa_private_pem, source="test")
    fingerprint = public_key_fingerprint(key)
    assert fingerprint.startswith("SHA256:")
    assert fingerprint == public_key_fingerprint(load_private_key(rsa_private_pem.decode(), source="test"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text", "not a PEM file"),
        (b"gAAAAABl-ciphertext-from-another-key", "FIELD_ENCRYPTION_KEY has changed"),
    ],
)
def test_it_explains_unusable_key_data(data, message):
    with pytest.raises(CredentialError, match=message) as excinfo:
        load_private_key(data, source="API credential 'main'")
    assert str(excinfo.value).startswith("API credential 'main': ")


def test_it_explains_pem_armour_around_something_that_is_not_a_key(unreadable_private_pem):
    with pytest.raises(CredentialError, match="not a readable private key") as excinfo:
        load_private_key(unreadable_private_pem, source="API credential 'main'")
    assert str(excinfo.value).startswith("API credential 'main': ")


def test_it_rejects_a_truncated_key_without_quoting_it(rsa_private_pem):
    truncated = rsa_private_pem[: len(rsa_private_pem) // 2]
    with pytest.raises(CredentialError) as excinfo:
        load_private_key(truncated, source="upload")
    assert rsa_private_pem.decode().splitlines()[1] not in str(excinfo.value)


def test_it_rejects_passphrase_protected_small_and_non_rsa_keys():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CredentialError, match="1024 bits; at least 2048"):
        load_private_key(pem_of(small), source="k")
    with pytest.raises(CredentialError, match="passphrase"):
        load_private_key(pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048), b"pw"), source="k")
    with pytest.raises(CredentialError, match="Kalshi keys are RSA"):
        load_private_key(pem_of(ec.generate_private_key(ec.SECP256R1())), source="k")


def test_it_explains_key_file_problems(tmp_path, rsa_private_pem):
    with pytest.raises(CredentialError, match=r"KALSHI_PRIVATE_KEY_PATH=.*missing.pem: no such file"):
        load_private_key_file(tmp_path / "missing.pem")
    with pytest.raises(CredentialError, match="is a directory"):
        load_private_key_file(tmp_path)
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(CredentialError, match="the file is empty"):
        load_private_key_file(empty)
    good = tmp_path / "good.pem"
    good.write_bytes(rsa_private_pem)
    assert load_private_key_file(good).key_size == 2048
    if os.geteuid() != 0:  # root reads anything
        good.chmod(0)
        with pytest.raises(CredentialError, match="permission denied"):
            load_private_key_file(good)


@pytest.mark.django_db
def test_the_environment_key_wins_for_its_own_exchange_only(tmp_path, settings, rsa_private_pem):
    ApiCredential.objects.create(
        name="stored-demo", environment="DEMO", key_id="demo-key-id-0001", private_key=rsa_private_pem.decode()
    )
    key_file = tmp_path / "prod.pem"
    key_file.write_bytes(rsa_private_pem)
    settings.KALSHI_API_KEY_ID, settings.KALSHI_PRIVATE_KEY_PATH = "env-key-id", str(key_file)
    settings.KALSHI_ENV = KalshiEnvironment.PROD

    prod = resolve_credentials()
    assert prod is not None
    assert (prod.key_id, prod.source, prod.environment) == ("env-key-id", "environment", KalshiEnvironment.PROD)
    demo = resolve_credentials(KalshiEnvironment.DEMO)
    assert demo is not None
    assert (demo.key_id, demo.source) == ("demo-key-id-0001", "admin:stored-demo")
    assert "PRIVATE" not in repr(demo) and "private_key" not in repr(demo)


@pytest.mark.django_db
def test_there_are_no_credentials_until_configured(settings):
    settings.KALSHI_API_KEY_ID = settings.KALSHI_PRIVATE_KEY_PATH = None
    assert resolve_credentials(KalshiEnvironment.PROD) is None
