"""Logging in through the real login page, in Debian's chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from dashboard.tests.browser.support import BROWSER, log_in, visit

pytestmark = BROWSER


def test_an_operator_logs_in_and_lands_on_the_page_asked_for(page, operator):
    visit(page, "/dashboard/markets/")
    expect(page).to_have_url("/admin/login/?next=/dashboard/markets/")
    log_in(page, "operator", next_path="/dashboard/markets/")
    expect(page).to_have_url("/dashboard/markets/")
    expect(page.locator("#mode-banner")).to_contain_text("DRY")
    expect(page.get_by_role("heading", name="Open markets")).to_be_visible()
    # Our own static files, served by the ASGI application: the vendored libraries and the live socket's script.
    assert page.evaluate("typeof htmx === 'object' && typeof Chart === 'function' && typeof kalshiwebLive === 'object'")


def test_a_wrong_password_is_refused_with_the_reason(page, operator):
    log_in(page, "operator", "not-the-password")
    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username and password")
    expect(page).to_have_url("/admin/login/?next=/")
