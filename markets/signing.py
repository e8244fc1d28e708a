"""Kalshi request signing: RSA-PSS with SHA-256 over timestamp, method and path.

Kalshi authenticates each request by three headers: ``KALSHI-ACCESS-KEY``
(the key id), ``KALSHI-ACCESS-TIMESTAMP`` (Unix time in *milliseconds*) and
``KALSHI-ACCESS-SIGNATURE``, the base64 RSA-PSS signature (MGF1-SHA256, salt
length = digest length) of ``f"{timestamp_ms}{METHOD}{path}"``. The path is
the URL path as sent, including the base URL's ``/trade-api/v2`` and
*excluding* the query string; these are the usual ways to get it wrong.

Pure module with no Django imports.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from kalshiweb.masking import mask_tail

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signing_message(timestamp_ms: int, method: str, path: str) -> bytes:
    """The bytes Kalshi verifies: ms timestamp, upper-case method, path without its query string."""
    bare_path = path.split("?", 1)[0]
    if not bare_path.startswith("/"):
        raise ValueError(f"sign the absolute URL path (e.g. /trade-api/v2/portfolio/balance), not {bare_path!r}")
    return f"{timestamp_ms}{method.upper()}{bare_path}".encode()


def sign(private_key: RSAPrivateKey, message: bytes) -> str:
    """Base64 RSA-PSS (SHA-256, MGF1-SHA256, digest-length salt) signature of ``message``."""
    return base64.b64encode(private_key.sign(message, _PSS, hashes.SHA256())).decode("ascii")


class RequestSigner:
    """Signs requests with one Kalshi API key. ``repr`` shows only the tail of the key id."""

    __slots__ = ("_clock", "_key", "key_id")

    def __init__(self, key_id: str, private_key: RSAPrivateKey, clock: Callable[[], float] = time.time) -> None:
        if not key_id:
            raise ValueError("a Kalshi key id is required")
        self.key_id = key_id
        self._key = private_key
        self._clock = clock

    def __repr__(self) -> str:
        return f"<RequestSigner key {mask_tail(self.key_id)}>"

    def timestamp_ms(self) -> int:
        # round(), not int(): seconds * 1000 in binary floating point can land just below the ms.
        return round(self._clock() * 1000)

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The three authentication headers for one request to ``path`` (query string ignored)."""
        timestamp = self.timestamp_ms()
        signature = sign(self._key, signing_message(timestamp, method, path))
        return {KEY_HEADER: self.key_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}
