"""Celery's workers and beat log through Django's LOGGING, and starting one leaves the process's logging alone."""

from __future__ import annotations

import logging
import sys

import pytest

from kalshiweb.celery import app


@pytest.fixture
def celery_logging_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh ``celery worker`` (or ``start_worker``, which resets it): Celery has not set up logging yet."""
    monkeypatch.setattr(type(app.log), "_setup", False)
    for name in ("CELERY_LOG_LEVEL", "CELERY_LOG_FILE"):
        monkeypatch.setenv(name, "")  # Celery's setup writes both; monkeypatch puts them back


def logger_state(name: str | None) -> tuple[int, list[logging.Handler], bool]:
    logger = logging.getLogger(name)
    return logger.level, list(logger.handlers), logger.propagate


@pytest.mark.usefixtures("celery_logging_unset")
def test_a_worker_setting_up_logging_keeps_djangos_root_logger_and_handlers():
    stdout = sys.stdout
    before = {name: logger_state(name) for name in (None, "celery", "celery.task", "celery.redirected")}

    # What `celery worker --loglevel ERROR` and celery.contrib.testing's start_worker do on start.
    app.log.setup(loglevel=logging.ERROR, redirect_stdouts=True)

    assert {name: logger_state(name) for name in before} == before
    assert logging.getLogger().getEffectiveLevel() < logging.ERROR
    assert sys.stdout is stdout


@pytest.mark.usefixtures("celery_logging_unset")
def test_a_task_logger_reaches_djangos_handlers(caplog: pytest.LogCaptureFixture):
    app.log.setup(loglevel=logging.ERROR)
    task_logger = app.log.get_default_logger(name="celery.task")
    with caplog.at_level(logging.INFO):
        task_logger.warning("a task said something")
    assert "a task said something" in caplog.text
