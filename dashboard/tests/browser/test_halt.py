"""Halting trading from the status page shows on the page already open, and on every page of the site."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.tests.browser.support import BROWSER, log_in, off_the_loop, shot, visit
from trading.models import TradingState
from trading.services import resume_trading

pytestmark = BROWSER

State = TradingState.State
# Header links that are not pages a person reads (JSON, Prometheus text): they carry no banner.
MACHINE_LINKS = {"/api/", "/health/", "/metrics"}
BANNER = "#mode-banner [data-live-trading-state]"  # the trading state every page shows


@pytest.fixture
def trading(site):
    # A new installation starts halted: resume first, so the halt is a change to see.
    off_the_loop(lambda: resume_trading(reason="open for the test", actor="test", now=timezone.now()))


def linked_pages(page) -> list[str]:
    """The pages the header and the status page link to (so a page added to either is covered here too)."""
    visit(page, "/")
    hrefs = page.locator("header a, main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    pages = [href for href in dict.fromkeys(hrefs) if href.startswith("/") and href not in MACHINE_LINKS]
    assert {"/dashboard/markets/", "/dashboard/onboarding/", "/admin/"} <= set(pages), pages
    return pages


def test_a_halt_from_the_status_page_shows_live_and_on_every_page(page, operator, trading):
    log_in(page, "operator", next_path="/dashboard/markets/")
    watching = page  # stays open on the markets page while the operator halts from another tab
    banner = watching.locator(BANNER)
    expect(banner).to_have_text(State.ACTIVE.label)
    expect(watching.locator("#live-status")).to_have_attribute("data-state", "live")
    watching.evaluate("window.notReloaded = true")

    status = page.context.new_page()
    visit(status, "/")
    status.get_by_label("Why").fill("browser test: halt")
    status.get_by_role("button", name="Halt trading").click()
    expect(status.locator(BANNER)).to_have_text(State.HALTED.label)

    expect(banner).to_have_text(State.HALTED.label)  # live, over the WebSocket
    expect(banner).to_have_class(re.compile(r"\bhalted\b"))  # painted red
    assert watching.evaluate("window.notReloaded === true")

    for path in linked_pages(status):
        visit(status, path)
        expect(status.locator(BANNER), path).to_have_text(State.HALTED.label)
    shot(watching, "dashboard-markets-halted")
