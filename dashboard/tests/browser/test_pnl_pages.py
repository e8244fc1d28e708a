"""The P&L page redraws itself when a market settles; the decision log filters without a reload."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from dashboard.tests.browser.support import BROWSER, log_in, off_the_loop, shot
from markets.schemas.enums import BookSide
from trading.tests.ledgers import at, build_ledger, buy, settle

pytestmark = BROWSER


@pytest.fixture
def ledger(site):
    cache.clear()  # the P&L report is cached per ledger version; another test's ledger may look the same
    home, away = build_ledger()
    buy(away.low, BookSide.BID, "0.10", 2, "0", at(3, 5, 15), strategy="model-taker", trade_id="b1")  # still open
    return home, away


def test_a_settlement_refreshes_the_pnl_and_redraws_the_charts(page, operator, ledger):
    _, away = ledger
    log_in(page, "operator", next_path="/dashboard/pnl/")
    summary = page.locator("#pnl-summary")
    expect(summary).to_contain_text("Realised $0.49")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    assert page.evaluate("Chart.getChart('equity-chart') !== undefined && Chart.getChart('daily-chart') !== undefined")
    page.evaluate("window.notReloaded = true")

    off_the_loop(lambda: settle(away.low, "yes", at(3, 6, 13)))  # 2 YES bought for 20¢ pay $2: +$1.80

    expect(summary).to_contain_text("Realised $2.29")
    expect(page.locator("#pnl-days")).to_contain_text("2025-03-06")
    assert page.evaluate("window.notReloaded === true")
    assert page.evaluate("Chart.getChart('equity-chart').data.labels.at(-1)") == "2025-03-06"
    shot(page, "dashboard-pnl-settled")


def test_the_decision_log_filters_in_place_and_keeps_the_filter_in_the_address(page, operator, ledger):
    log_in(page, "operator", next_path="/dashboard/decisions/")
    rows = page.locator("#decisions tr")
    expect(rows).to_have_count(1 + 5)
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Side").select_option("no")

    expect(rows).to_have_count(1 + 1)
    expect(page).to_have_url("/dashboard/decisions/?city=&since=&until=&ticker=&verdict=&side=no&rule=&cycle=")
    assert page.evaluate("window.notReloaded === true")
    shot(page, "dashboard-decisions-filtered")


def test_a_post_mortem_opens_from_the_list(page, operator, ledger):
    home, _ = ledger
    log_in(page, "operator", next_path="/dashboard/postmortem/")
    page.get_by_role("link", name=home.mid.ticker).click()
    expect(page.locator("#explanation")).to_contain_text("We paid 42¢ for YES believing 61%; the market said 45%")
    shot(page, "dashboard-postmortem-detail")
