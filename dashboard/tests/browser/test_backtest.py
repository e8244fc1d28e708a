"""An operator starts a backtest from its page and watches it run to its results, live."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from backtesting.models import BacktestRun
from backtesting.tests.test_runbacktest import both_sides
from dashboard.tests.browser.support import BROWSER, log_in, shot
from prediction.tests.world import build_world

pytestmark = BROWSER

START, END = date(2025, 1, 20), date(2025, 1, 27)
# Every backtest.progress event the page hears, kept across the reload that shows the results.
RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("live-backtest-progress", (event) => {
    const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
    seen.push(event.detail.status);
    sessionStorage.setItem("progress", JSON.stringify(seen));
  });
});
"""


@pytest.fixture
def history(site):
    """New York's history with prints on both sides (as the page's own tests use)."""
    world = build_world(first_day=date(2024, 11, 10), first_event=date(2025, 1, 10), last_day=END)
    both_sides(world.series)
    return world


def test_a_backtest_started_from_its_page_runs_on_the_worker_and_shows_its_results(
    page, operator, history, start_worker
):
    log_in(page, "operator", next_path="/dashboard/backtests/")
    page.add_init_script(RECORD_PROGRESS)
    page.get_by_label("First day").fill(START.isoformat())
    page.get_by_label("Last day").fill(END.isoformat())
    page.get_by_label("New York (KXHIGHNY)").check()
    page.get_by_label("Decision times (local)").fill("10:00")
    page.get_by_role("button", name="Start backtest").click()

    run = BacktestRun.objects.get()
    expect(page).to_have_url(f"/dashboard/backtests/{run.pk}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    start_worker()  # the run waited in the queue until the page could hear it: every event of it is heard
    expect(page.locator("[data-backtest-status]")).to_have_text("Succeeded", timeout=30_000)
    expect(page.locator("#backtest-metrics")).to_contain_text("model-taker")
    shot(page, f"dashboard-backtests-{run.pk}")

    heard = page.evaluate("JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert heard and heard[-1] == "succeeded" and "running" in heard, heard
    run.refresh_from_db()
    assert run.status == BacktestRun.Status.SUCCEEDED and run.requested_by == "operator"
