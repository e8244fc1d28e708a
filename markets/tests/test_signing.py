from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from markets.signing import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RequestSigner,
    sign,
    signing_message,
)

KEY_ID = "a1b2c3d4-0000-4000-8000-123456789abc"


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def verify(public_key, signature_b64: str, message: bytes) -> None:
    """Verify as Kalshi documents it: RSA-PSS, SHA-256, MGF1-SHA256, salt = digest length."""
    public_key.verify(
        base64.b64decode(signature_b64),
        message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )


def test_it_signs_a_message_the_public_key_verifies(private_key):
    message = b"1703123456789GET/trade-api/v2/portfolio/balance"
    signature = sign(private_key, message)
    verify(private_key.public_key(), signature, message)
    with pytest.raises(InvalidSignature):
        verify(private_key.public_key(), signature, message + b"x")


def test_signatures_are_randomized_so_tests_must_verify_not_compare(private_key):
    message = b"1703123456789GET/trade-api/v2/portfolio/balance"
    assert sign(private_key, message) != sign(private_key, message)


def test_it_excludes_the_query_string():
    assert signing_message(1703123456789, "GET", "/trade-api/v2/portfolio/orders?limit=5&cursor=abc") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


def test_it_upper_cases_the_method():
    assert (
        signing_message(1, "delete", "/trade-api/v2/portfolio/orders/x") == b"1DELETE/trade-api/v2/portfolio/orders/x"
    )


def test_it_refuses_a_path_without_the_leading_slash():
    with pytest.raises(ValueError, match="absolute URL path"):
        signing_message(1, "GET", "portfolio/balance")


def test_headers_carry_key_id_milliseconds_and_a_verifiable_signature(private_key):
    signer = RequestSigner(KEY_ID, private_key, clock=lambda: 1703123456.789)
    headers = signer.headers("get", "/trade-api/v2/portfolio/orders?limit=5")
    assert headers[KEY_HEADER] == KEY_ID
    assert headers[TIMESTAMP_HEADER] == "1703123456789"  # milliseconds, not seconds
    verify(private_key.public_key(), headers[SIGNATURE_HEADER], b"1703123456789GET/trade-api/v2/portfolio/orders")


def test_the_path_must_include_the_base_path(private_key):
    signer = RequestSigner(KEY_ID, private_key, clock=lambda: 1.0)
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    with pytest.raises(InvalidSignature):
        verify(private_key.public_key(), headers[SIGNATURE_HEADER], b"1000GET/portfolio/balance")
    verify(private_key.public_key(), headers[SIGNATURE_HEADER], b"1000GET/trade-api/v2/portfolio/balance")


def test_repr_never_shows_the_key(private_key):
    text = repr(RequestSigner(KEY_ID, private_key))
    assert "PRIVATE" not in text
    assert KEY_ID not in text
    assert text.endswith("9abc>")


def test_a_key_id_is_required(private_key):
    with pytest.raises(ValueError, match="key id"):
        RequestSigner("", private_key)
