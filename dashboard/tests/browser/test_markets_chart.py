"""The markets page draws each event's prices of the last day in chromium, with our fills on them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.tests.browser.support import BROWSER, log_in, shot
from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.services import resume_trading
from trading.tests.world import NOW, build_world, quiet_books, trade

pytestmark = BROWSER


@pytest.fixture
def world(site, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=1), tick=True)
    world = build_world()
    quiet_books(world)
    for n, minutes in enumerate((300, 200, 100, 10)):
        trade(
            world.mid,
            yes_price=f"0.{30 + n}",
            count="2",
            taker="yes",
            at=NOW - timedelta(minutes=minutes),
            trade_id=f"p{n}",
        )
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    run_cycle(PaperBroker(), now=NOW)
    return world


def test_the_price_chart_shows_the_brackets_prints_and_our_fill(page, operator, world):
    log_in(page, "operator", next_path="/dashboard/markets/")
    page.wait_for_function(
        '(ticker) => window.Chart && Chart.getChart(document.querySelector(`[data-price-chart="${ticker}"]`))',
        arg=world.event.event_ticker,
    )
    drawn = page.evaluate(
        """(ticker) => {
            const chart = Chart.getChart(document.querySelector(`[data-price-chart="${ticker}"]`));
            return chart && chart.data.datasets.map((d) => [d.label, d.data.length]);
        }""",
        world.event.event_ticker,
    )
    assert drawn == [["40° to 41°", 4], ["our fills", 1]]
    shot(page, "dashboard-markets-chart")
