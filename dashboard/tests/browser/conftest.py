"""Browser tests: Debian's chromium, driven by Playwright, against the real ASGI application.

uvicorn serves ``kalshiweb.asgi.application`` (Django with WhiteNoise's static files, Channels'
WebSocket routing) from a thread of this process on a free loopback port, and the embedded Celery
worker runs what a page starts, so a test drives the stack ``make run`` serves, on the embedded
defaults or on PostgreSQL and Redis alike. Playwright never downloads a browser: it launches
``/usr/bin/chromium`` (``make install-dev`` installs Debian's package), or ``$CHROMIUM``.

Two things follow from running Playwright's synchronous API in the test's thread. Its event loop
stays "running" there between calls, so Django's guard against ORM calls from async code would
refuse the test's own set-up (hence DJANGO_ALLOW_ASYNC_UNSAFE for these tests only), and
``async_to_sync`` refuses to run there: code that broadcasts goes through ``support.off_the_loop``.

``BROWSER_SHOTS=/tmp/shots`` saves a screenshot of every page ``support.visit`` opens.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from dashboard.tests.browser.support import PASSWORD, LiveServer

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
WAIT_MS = 10_000  # Playwright's auto-waiting ceiling for one expectation


@pytest.fixture(scope="session")
def live_server_url() -> Iterator[str]:
    server = LiveServer()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="package")
def chromium(django_db_setup: None) -> Iterator[Any]:
    """One headless chromium for this package's tests, stopped when they are done.

    Package scope, not session: while Playwright's sync API runs, its event loop counts as running
    in this thread, so every later test in the process would meet "a running event loop"
    (asyncio.run refuses, the ORM raises SynchronousOnlyOperation).
    """
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM}: run `make install-dev`", pytrace=False)
    expect.set_options(timeout=WAIT_MS)
    playwright = sync_playwright().start()
    # Chromium's sandbox refuses to start as root (CI runs as root).
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@contextmanager
def one_connection_for_every_thread() -> Iterator[None]:
    """Hand the test's in-memory SQLite connection to the server's and the worker's threads.

    An in-memory database lives in its connection, so Django's LiveServerThread shares the test's
    with its request threads. Under ASGI requests run in asgiref's sync thread (kalshiweb.asgi) and
    Celery's worker in threads of its own, so here every thread sees the one connection while the test
    runs. Other databases are reached from each thread's own connection, as in production.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if not (conn.vendor == "sqlite" and conn.is_in_memory_db()):  # type: ignore[attr-defined]  # on SQLite's wrapper only
        yield
        return
    own = connections._connections  # type: ignore[attr-defined]  # the per-thread storage
    conn.inc_thread_sharing()
    connections._connections = SimpleNamespace(**{DEFAULT_DB_ALIAS: conn})  # type: ignore[attr-defined]
    try:
        yield
    finally:
        connections._connections = own  # type: ignore[attr-defined]
        conn.dec_thread_sharing()


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse, so it is set before the test database's fixtures and unset after them (see the docstring)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")


@pytest.fixture
def site(transactional_db: None, live_server_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The running site on a transactional test database (committed, so every thread sees it); its base URL."""
    if settings.REDIS_URL:
        # Tests in other processes broadcast on the same Redis: keep their events off these pages.
        layer = settings.CHANNEL_LAYERS["default"]
        config = {**layer["CONFIG"], "prefix": f"kalshiweb-browser-{os.getpid()}"}
        settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": config}}
    # The server's thread closes its connection after each request, so none outlives the test database.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    with one_connection_for_every_thread():
        yield live_server_url


@pytest.fixture
def start_worker(site: str) -> Iterator[Callable[[], None]]:
    """Tasks go to the broker (the suite otherwise runs them inline); calling the fixture's value starts the
    Celery worker ``make run`` embeds, in a thread, to take them. A test starts it when its page is ready to
    watch: a task queued before then waits for it.

    Only for the test that asks: Celery's worker state is global to the process, and on Redis the queue is shared
    with other test processes, so a worker left running could take (or stop with) another test's worker.
    """
    from kalshiweb.celery import app
    from kalshiweb.embedded import EmbeddedWorker

    embedded = EmbeddedWorker(app)
    started = False

    def start() -> None:
        nonlocal started
        embedded.start()
        started = True

    app.conf.task_always_eager = False
    try:
        yield start
    finally:
        if started:
            embedded.stop(10)
        app.conf.task_always_eager = True


@pytest.fixture
def page(chromium: Any, site: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the site; fails the test on any script error or anything
    the content security policy blocked (an inline script without the page's nonce, say)."""
    context = chromium.new_context(base_url=site)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on(  # a missing script, stylesheet or icon
        "response",
        lambda response: (
            errors.append(f"{page.url}: {response.status} for {response.url}")
            if response.status == 404 and response.request.resource_type != "document"
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"Script errors: {errors}"


@pytest.fixture
def operator(site: str, settings: Any) -> Any:
    """A staff user (not a superuser) who may switch trading, as an operator is set up."""
    # Not through django_user_model: it asks for the ``db`` fixture, whose transaction the server's threads cannot see.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a fast hash for tests
    user = get_user_model().objects.create_user(username="operator", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_tradingstate", content_type__app_label="trading"))
    return user
