"""The web's HTTP handler (kalshiweb.asgi): every middleware runs, in one crossing to the process's one sync thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from channels.testing import HttpCommunicator

from kalshiweb.asgi import application
from kalshiweb.middleware import REQUEST_ID_HEADER

HOST = [(b"host", b"127.0.0.1")]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]  # the request's thread: its own connection


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each hand-over from the event loop to a thread ran, by name, while the test runs."""
    crossed: list[str] = []
    cross = SyncToAsync.__call__

    async def counted(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        crossed.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await cross(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    return crossed


async def test_a_page_passes_every_middleware_in_one_crossing(crossings: list[str]) -> None:
    answer = await HttpCommunicator(
        application, "GET", "/admin/login/", headers=[(b"host", b"127.0.0.1")]
    ).get_response(timeout=30)

    assert answer["status"] == 200
    headers = {name.decode().lower(): value.decode() for name, value in answer["headers"]}
    # Our middlewares' marks (request id, policy, caching) and Django's (session cookie's CSRF, framing) are all there.
    assert len(headers[REQUEST_ID_HEADER.lower()]) == 32
    assert "nonce-" in headers["content-security-policy"]
    assert "no-store" in headers["cache-control"]
    assert headers["x-frame-options"] == "DENY"
    assert "csrftoken=" in headers["set-cookie"]
    # Request started (closing stale connections), the chain with its view, the response closed: nothing per middleware.
    assert len(crossings) <= 3, crossings


async def test_requests_are_served_one_after_another_in_one_thread_not_a_thread_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="kalshiweb.access"):
        for _ in range(3):
            answer = await HttpCommunicator(application, "GET", "/admin/login/", headers=HOST).get_response(timeout=30)
            assert answer["status"] == 200
    served_in = {record.thread for record in caplog.records if record.name == "kalshiweb.access"}
    assert len(served_in) == 1, "each request had a thread (and a database connection) of its own"
    assert threading.get_ident() not in served_in  # not on the event loop's
