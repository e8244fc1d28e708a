"""How the local exchange authenticates a request: Kalshi's RSA-PSS headers, checked against the keys it knows.

The key id names the member. A signature must verify over timestamp, method
and path (query string excluded, see markets.signing) and be no older (or
newer) than SIGNATURE_WINDOW_MS.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from markets.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signing_message

SIGNATURE_WINDOW_MS = 60_000
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def authenticated_member(
    keys: Mapping[str, RSAPublicKey], headers: Mapping[str, str], method: str, path: str, *, now_ms: float
) -> str | None:
    """The member whose key signed these headers for ``method`` and ``path``; None if they do not verify."""
    member = headers.get(KEY_HEADER, "")
    key = keys.get(member)
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
        signature = base64.b64decode(headers.get(SIGNATURE_HEADER, ""), validate=True)
        if key is None or abs(now_ms - timestamp) > SIGNATURE_WINDOW_MS:
            return None
        key.verify(signature, signing_message(timestamp, method, path), _PSS, hashes.SHA256())
    except (ValueError, binascii.Error, InvalidSignature):
        return None
    return member
