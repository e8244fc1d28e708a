"""A saved prediction reaches an open markets page over the WebSocket, without a reload."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.tests.browser.support import BROWSER, log_in, off_the_loop, shot
from prediction.dataset import live_cases
from prediction.models import ModelVersion, Prediction
from prediction.predictor import Forecast
from prediction.services.predict import store_prediction
from trading.tests.world import NOW, World, build_world, quiet_books

pytestmark = BROWSER


@pytest.fixture
def world(site, time_machine):
    # The world's event trades on NOW's climate day; the clock keeps running from there.
    time_machine.move_to(NOW + timedelta(minutes=1), tick=True)
    world = build_world()
    quiet_books(world)
    return world


def save_prediction(world: World, probabilities: tuple[float, ...], *, now: datetime) -> Prediction:
    """A new prediction of the world's event, stored and broadcast by the service the prediction task uses."""
    [case] = live_cases(series=world.event.series, now=now).cases
    version = ModelVersion.objects.get(name="test")
    return store_prediction(version, world.event, case, Forecast(probabilities=probabilities), None)


def test_a_saved_prediction_updates_the_brackets_probability_live(page, operator, world):
    log_in(page, "operator", next_path="/dashboard/markets/")
    cell = page.locator(f'[data-live-probability="{world.mid.ticker}"]')
    expect(cell).to_have_text("75.0%")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads

    saved = off_the_loop(lambda: save_prediction(world, (0.1, 0.553, 0.347), now=timezone.now()))

    expect(cell).to_have_text("55.3%")
    predicted_at = page.locator(f'[data-live-predicted-at="{world.event.event_ticker}"]')
    expect(predicted_at).to_have_text(f"predicted {saved.as_of:%H:%M} UTC")
    expect(page.locator(f'[data-live-probability="{world.high.ticker}"]')).to_have_text("34.7%")
    assert page.evaluate("window.notReloaded === true")
    shot(page, "dashboard-markets-live")
