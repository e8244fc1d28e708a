"""Logging: one logger per module, JSON in production, and no secrets ever.

Every handler carries :class:`RedactSecrets`, which scrubs a record after its
message has been formatted: PEM private keys, Kalshi signature headers,
passwords inside URLs, and the exact values registered with
:func:`register_secret` (the Django secret key, field encryption keys, loaded
API keys). Redaction happens at the handler, so a careless ``logger.info("%s",
credential.private_key)`` anywhere in the code still cannot leak.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from kalshiweb.env import mask_url_password

REDACTED = "[REDACTED]"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # A whole PEM private key, or the start of one cut off mid-way.
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
        "[REDACTED PRIVATE KEY]",
    ),
    # Kalshi's signature header in dict reprs or HTTP dumps.
    (re.compile(r"(KALSHI-ACCESS-SIGNATURE['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9+/=_-]+", re.IGNORECASE), r"\1" + REDACTED),
    # Passwords in URLs (database, Redis): up to the last '@' of the word, as settings read them.
    (
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^:/@\s]*:\S*@", re.IGNORECASE),
        lambda match: mask_url_password(match.group(0)),
    ),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Have every later log line scrub this exact value (ignored if too short to be a secret)."""
    if len(value) >= 12:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and secret-shaped string replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


# The id of the request being served, set by kalshiweb.middleware.RequestLogMiddleware.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Gives every log record the id of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class RedactSecrets(logging.Filter):
    """Scrub the formatted message, the traceback and string extras of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Render the traceback here so no formatter sees the raw exception text.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class ConsoleFormatter(logging.Formatter):
    """The one-line-per-record console format, kept one line per record whatever a message holds.

    A reason or a market title that carries a newline must not print a second
    line that reads as a record of its own (log forging), so CR and LF in the
    message are escaped; a traceback keeps its lines, each marked as a
    continuation so none can pass for a record.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _continuation(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _continuation(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_text and not record.exc_text.startswith(_CONTINUATION):
            # RedactSecrets renders tracebacks into exc_text before any formatter runs.
            record.exc_text = _continuation(record.exc_text)
        return super().format(record)


_CONTINUATION = "  | "


def _continuation(text: str) -> str:
    return "\n".join(_CONTINUATION + line for line in text.splitlines())


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def logging_config(*, level: LogLevel, fmt: LogFormat) -> dict[str, Any]:
    """Build the LOGGING dict for settings."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": "kalshiweb.logconfig.RedactSecrets"},
            "request_id": {"()": "kalshiweb.logconfig.RequestIdFilter"},
        },
        "formatters": {
            "console": {
                "()": "kalshiweb.logconfig.ConsoleFormatter",
                "format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            },
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d %(threadName)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "timestamp": False,
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt.value,
                "filters": ["request_id", "redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level.value},
        "loggers": {
            # Quieten per-request noise; errors still come through.
            "django.request": {"level": "WARNING"},
            "django.db.backends": {"level": "WARNING"},
            "uvicorn.access": {"level": "WARNING"},  # ours (kalshiweb.access) names the user and request id
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
