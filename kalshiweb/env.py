"""Typed readers for environment variables that fail loudly on bad values.

Settings read the environment only through these helpers, so a typo such as
``TRADING_MODE=YOLO`` stops start-up with a message naming the variable, what
it holds and what would be accepted, instead of surfacing later as odd
behaviour. Values of secret variables are never echoed back in those messages.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

E = TypeVar("E", bound=StrEnum)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bad(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is invalid: expected {expected}.")


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the stripped value, or the default when unset or empty."""
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """Accept 1/0, true/false, yes/no, on/off (any case); anything else is an error."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _bad(name, value, "one of 1/0, true/false, yes/no, on/off")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Parse a base-10 integer and check it lies within [minimum, maximum]."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise _bad(name, value, "an integer") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "-inf" if minimum is None else str(minimum)
        high = "inf" if maximum is None else str(maximum)
        raise _bad(name, value, f"an integer between {low} and {high}")
    return number


def env_choice(name: str, enum: type[E], default: E, *, environ: Mapping[str, str] | None = None) -> E:
    """Parse one member of a string enum, case-insensitively."""
    value = _raw(name, environ)
    if value is None:
        return default
    by_value = {member.value.upper(): member for member in enum}
    member = by_value.get(value.upper())
    if member is None:
        raise _bad(name, value, "one of " + ", ".join(m.value for m in enum))
    return member


def env_list(name: str, default: Iterable[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Split a comma-separated value, dropping blanks."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(
    name: str, default: Iterable[str], *, environ: Mapping[str, str] | None = None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Return a comma-separated list of networks (10.0.0.0/8, ::1/128; a bare address is a /32 or /128)."""
    networks = []
    for text in env_list(name, default, environ=environ):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise _bad(name, text, "networks such as 127.0.0.1/32,10.0.0.0/8,::1/128") from None
    return networks


def mask_url_password(url: str) -> str:
    """Hide the password of a URL (``scheme://user:secret@host`` → ``scheme://user:***@host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


_SUPPORTED_DATABASE_ENGINES = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql",
}


def env_database(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Parse a DATABASE_URL into a Django DATABASES entry (SQLite or PostgreSQL only)."""
    import dj_database_url  # imported here: only settings need it

    url = _raw(name, environ) or default
    shown = mask_url_password(url)
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url))
    except Exception as exc:  # the library raises several unrelated types for bad URLs
        raise ImproperlyConfigured(
            f"Environment variable {name}={shown!r} is not a valid database URL ({exc.__class__.__name__}). "
            "Use sqlite:///path/to/db.sqlite3 or postgres://user:password@host:5432/dbname."
        ) from None
    engine = str(config.get("ENGINE", ""))
    if engine not in _SUPPORTED_DATABASE_ENGINES:
        raise ImproperlyConfigured(
            f"Environment variable {name}={shown!r} names an unsupported database; "
            "kalshiweb runs on SQLite or PostgreSQL."
        )
    if not config.get("NAME") or config.get("NAME") == ":memory:":
        raise ImproperlyConfigured(
            f"Environment variable {name}={shown!r} has no database name "
            "(an in-memory SQLite database cannot be shared by the web and worker threads)."
        )
    return config


def env_redis_url(name: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Return a redis:// or rediss:// URL with a host, or None when unset."""
    from urllib.parse import urlsplit

    url = _raw(name, environ)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"Environment variable {name}={mask_url_password(url)!r} is invalid: "
            "expected redis://host:6379/0 or rediss://host:6380/0."
        )
    return url


def env_http_url(
    name: str, default: str, *, environ: Mapping[str, str] | None = None, tls_off_loopback: bool = False
) -> str:
    """Return an http(s) URL with a host, without a trailing slash.

    With ``tls_off_loopback`` plain http is refused unless the host is this
    machine (the local exchange): a signed Kalshi request sent in the clear
    could be read and replayed by anyone on the path.
    """
    return _url(name, default, ("http", "https"), environ, tls_off_loopback=tls_off_loopback)


def env_ws_url(
    name: str, default: str, *, environ: Mapping[str, str] | None = None, tls_off_loopback: bool = False
) -> str:
    """Return a ws(s) URL with a host and a path (a WebSocket endpoint), without a trailing slash."""
    url = _url(name, default, ("ws", "wss"), environ, tls_off_loopback=tls_off_loopback)
    if url.count("/") < 3:
        raise _bad(name, url, "a ws:// or wss:// URL with a path, e.g. wss://host/trade-api/ws/v2")
    return url


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _url(
    name: str,
    default: str,
    schemes: tuple[str, str],
    environ: Mapping[str, str] | None,
    *,
    tls_off_loopback: bool = False,
) -> str:
    from urllib.parse import urlsplit

    url = _raw(name, environ) or default
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise _bad(name, url, f"a {schemes[0]}:// or {schemes[1]}:// URL with a host")
    if tls_off_loopback and parts.scheme == schemes[0] and parts.hostname not in _LOOPBACK_HOSTS:
        raise _bad(
            name, url, f"a {schemes[1]}:// URL ({schemes[0]}:// only for this machine, such as the local exchange)"
        )
    return url.rstrip("/")


def env_uuid(name: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Return a UUID in its canonical lower-case form, or None when unset (Kalshi's API key ids are UUIDs)."""
    import uuid

    value = _raw(name, environ)
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _bad(
            name, value, "a UUID such as 0b6c9a52-6e0f-4d1e-9d55-2f1a1c5f4e3b (the key id Kalshi shows)"
        ) from None
