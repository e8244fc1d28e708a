"""What the browser tests share besides fixtures: the live server, marks and page helpers."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connections

PASSWORD = "browser-test-password"

T = TypeVar("T")

# Every browser test: selectable with -m browser, on one xdist worker (one chromium, one server), and
# quiet about WhiteNoise's synchronous file iterators under ASGI (harmless; see settings).
BROWSER = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


class LiveServer:
    """uvicorn serving the project's ASGI application in a daemon thread."""

    def __init__(self) -> None:
        import uvicorn

        from kalshiweb.asgi import application

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        # As runembedded configures it; signal handlers stay with the main thread.
        config = uvicorn.Config(application, lifespan="off", log_config=None, access_log=False, ws="websockets-sansio")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="browser-uvicorn", daemon=True
        )

    def start(self, timeout: float = 10) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {timeout:.0f}s")
            self._thread.join(0.02)

    def stop(self, timeout: float = 10) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()


def visit(page: Any, path: str) -> Any:
    """Open ``path`` and check it answered 200; saves a screenshot when BROWSER_SHOTS names a folder."""
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    shot(page, path)
    return response


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("BROWSER_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        slug = name.strip("/").replace("/", "-").replace("?", "-") or "home"
        page.screenshot(path=str(Path(folder) / f"{slug}.png"), full_page=True)


def log_in(page: Any, username: str, password: str = PASSWORD, *, next_path: str = "/") -> None:
    """Through the login page staff-only pages send a visitor to (the admin's)."""
    visit(page, f"/admin/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    # Wait for the page signed in to, scripts and all: a test that acts as soon as the address changes
    # would race htmx and the charts still loading.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Log in").click()


def off_the_loop(call: Callable[[], T]) -> T:
    """Run ``call`` in a thread of its own and return what it returns: Playwright's loop in the test's
    thread stops ``async_to_sync``, which broadcasts use."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()  # its own connection; SQLite's shared in-memory one ignores this

    thread = threading.Thread(target=run, name="browser-test-call")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
