"""Kalshi API keys: loading, validating and choosing the one to sign with.

A key comes either from the environment (KALSHI_API_KEY_ID plus the path in
KALSHI_PRIVATE_KEY_PATH) or from an active ApiCredential stored encrypted in
the admin; the environment wins. Every failure names its source (the path, or
the credential's name) and never includes key material.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from kalshiweb.logconfig import register_secret
from kalshiweb.modes import KalshiEnvironment

logger = logging.getLogger(__name__)

MIN_KEY_BITS = 2048
# A Fernet token: what an EncryptedTextField returns when the key in settings cannot decrypt it.
_FERNET_PREFIX = "gAAAAA"


class CredentialError(Exception):
    """A Kalshi key that cannot be used, with a message safe to show and log."""


@dataclass(frozen=True)
class KalshiCredentials:
    """What the client needs to sign requests. ``repr`` never shows the key."""

    key_id: str
    private_key: RSAPrivateKey = field(repr=False)
    environment: KalshiEnvironment
    source: str

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self.private_key)


@sensitive_variables("pem")
def load_private_key(pem: bytes | str, *, source: str) -> RSAPrivateKey:
    """Parse a PEM RSA private key, or raise CredentialError naming ``source``."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    if data.lstrip().startswith(_FERNET_PREFIX.encode()):
        raise CredentialError(
            f"{source}: the stored key cannot be decrypted. FIELD_ENCRYPTION_KEY has changed since it "
            "was saved; restore the old key (newest first, comma-separated) or re-enter the credential."
        )
    if b"-----BEGIN" not in data:
        raise CredentialError(f"{source}: not a PEM file (no '-----BEGIN ... PRIVATE KEY-----' line).")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CredentialError(
            f"{source}: the private key is protected by a passphrase; Kalshi keys are used unencrypted "
            "(store it encrypted in the admin instead)."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CredentialError(
            f"{source}: the PEM data is not a readable private key (corrupt or truncated?)."
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise CredentialError(f"{source}: Kalshi keys are RSA, but this is a {type(key).__name__.lstrip('_')}.")
    if key.key_size < MIN_KEY_BITS:
        raise CredentialError(f"{source}: the RSA key has {key.key_size} bits; at least {MIN_KEY_BITS} are required.")
    register_secret(data.decode("utf-8", errors="replace").strip())
    return key


def load_private_key_file(path: str | Path) -> RSAPrivateKey:
    """Read and parse a PEM key file, with a clear error for each way it can fail."""
    source = f"KALSHI_PRIVATE_KEY_PATH={path}"
    key_path = Path(path).expanduser()
    try:
        data = key_path.read_bytes()
    except FileNotFoundError:
        raise CredentialError(f"{source}: no such file.") from None
    except IsADirectoryError:
        raise CredentialError(f"{source}: is a directory, not a key file.") from None
    except PermissionError:
        raise CredentialError(f"{source}: permission denied reading the key file.") from None
    if not data.strip():
        raise CredentialError(f"{source}: the file is empty.")
    return load_private_key(data, source=source)


def public_key_fingerprint(key: RSAPrivateKey) -> str:
    """SHA-256 of the DER public key, the way ``ssh-keygen -l`` prints fingerprints."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii").rstrip("=")


def resolve_credentials(environment: KalshiEnvironment | None = None) -> KalshiCredentials | None:
    """The key to sign with for ``environment`` (default: the configured KALSHI_ENV), or None.

    Environment variables apply to the configured environment only: a demo key
    set in the environment is never offered for production, or the reverse.
    """
    from markets.models import ApiCredential  # deferred: importable before apps are ready

    wanted = environment or settings.KALSHI_ENV
    key_path = settings.KALSHI_PRIVATE_KEY_PATH
    if settings.KALSHI_API_KEY_ID and key_path and wanted == settings.KALSHI_ENV:
        key = load_private_key_file(key_path)
        return KalshiCredentials(settings.KALSHI_API_KEY_ID, key, wanted, "environment")
    stored = ApiCredential.objects.filter(environment=wanted.value, is_active=True).first()
    if stored is None:
        return None
    key = load_private_key(stored.private_key, source=f"API credential {stored.name!r}")
    return KalshiCredentials(stored.key_id, key, wanted, f"admin:{stored.name}")
