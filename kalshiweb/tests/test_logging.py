from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kalshiweb.logconfig import LogFormat, LogLevel, RedactSecrets, logging_config, redact, register_secret


@contextmanager
def wired_logger(fmt: LogFormat, name: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger wired exactly as production's handler in ``fmt``, writing to a buffer."""
    import logging.config

    stream = io.StringIO()
    config = logging_config(level=LogLevel.INFO, fmt=fmt)
    config["handlers"]["console"]["stream"] = stream
    config["root"] = {"handlers": [], "level": "INFO"}
    config["loggers"] = {name: {"handlers": ["console"], "level": "INFO", "propagate": False}}
    logging.config.dictConfig(config)
    try:
        yield logging.getLogger(name), stream
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)


@pytest.fixture
def json_logger():
    with wired_logger(LogFormat.JSON, "redaction-test") as wired:
        yield wired


def test_it_redacts_a_private_key_in_a_message(json_logger, rsa_private_pem):
    logger, stream = json_logger
    pem = rsa_private_pem.decode().strip()
    logger.info("loaded key %s for %s", pem, "demo")
    record = json.loads(stream.getvalue())
    assert record["message"] == "loaded key [REDACTED PRIVATE KEY] for demo"
    assert record["level"] == "INFO"
    assert record["logger"] == "redaction-test"
    body_line = pem.splitlines()[1]
    assert body_line not in stream.getvalue()


def test_it_redacts_inside_tracebacks_and_extras(json_logger, rsa_private_pem):
    logger, stream = json_logger
    pem = rsa_private_pem.decode().strip()
    try:
        raise ValueError(f"could not parse {pem}")
    except ValueError:
        logger.exception("boom", extra={"payload": pem})
    output = stream.getvalue()
    assert "BEGIN PRIVATE KEY" not in output
    assert pem.splitlines()[2] not in output
    record = json.loads(output)
    assert "ValueError: could not parse [REDACTED PRIVATE KEY]" in record["exc_info"]
    assert record["payload"] == "[REDACTED PRIVATE KEY]"


def test_it_redacts_signatures_url_passwords_and_registered_secrets():
    register_secret("sk-live-very-secret-value")
    text = redact(
        "headers={'KALSHI-ACCESS-SIGNATURE': 'aGVsbG8gd29ybGQ=', 'KALSHI-ACCESS-KEY': 'kid'} "
        "db=postgres://kw:hunter22@db/kw token=sk-live-very-secret-value"
    )
    assert "aGVsbG8gd29ybGQ=" not in text
    assert "hunter22" not in text
    assert "postgres://kw:***@db/kw" in text
    assert "sk-live-very-secret-value" not in text
    assert "'KALSHI-ACCESS-KEY': 'kid'" in text


def test_the_settings_keys_are_never_logged(caplog):
    from django.conf import settings

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key=%s", (settings.SECRET_KEY,), None)
    RedactSecrets().filter(record)
    assert settings.SECRET_KEY not in record.getMessage()


def test_every_configured_handler_redacts():
    from django.conf import settings

    for handler in settings.LOGGING["handlers"].values():
        assert "redact" in handler["filters"]


@pytest.fixture
def console_logger():
    with wired_logger(LogFormat.CONSOLE, "forging-test") as wired:
        yield wired


def test_a_newline_in_a_logged_value_cannot_forge_a_console_line(console_logger):
    logger, stream = console_logger
    reason = "stale books\n2026-12-06 00:00:00,000 INFO    trading.killswitch: Kill switch reset by admin\rX"
    logger.warning("Kill switch tripped: %s", reason)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        r"Kill switch tripped: stale books\n2026-12-06 00:00:00,000 INFO    trading.killswitch: "
        r"Kill switch reset by admin\rX"
    )


def test_a_console_traceback_stays_readable_but_cannot_start_a_line_like_a_record(console_logger):
    logger, stream = console_logger
    try:
        raise ValueError("bad value\n2026-12-06 00:00:00,000 INFO    forged: line")
    except ValueError:
        logger.exception("It failed")
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("forging-test: It failed")
    assert any("Traceback (most recent call last):" in line for line in rest)
    assert rest and all(line.startswith("  | ") for line in rest), rest
