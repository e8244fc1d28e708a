"""Every page loads live.js and, for staff, the connection indicator that names its socket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import reverse

from trading.models import RiskLimits
from trading.services import resume_trading
from trading.tests.world import NOW, build_world, quiet_books

pytestmark = pytest.mark.django_db

INDICATOR = 'id="live-status" class="live-status connecting" data-live-socket="/ws/events/"'


def test_a_staff_page_has_the_indicator_and_loads_live_js_after_htmx(staff_client):
    html = staff_client.get(reverse("dashboard-positions")).content.decode()
    assert INDICATOR in html
    assert html.index("vendor/htmx.min.js") < html.index("kalshiweb/live.js") < html.index("</body>")


def test_without_staff_there_is_no_socket_to_open(rf):
    request = rf.get("/")
    request.user = AnonymousUser()
    html = render_to_string("base.html", request=request)
    assert "kalshiweb/live.js" in html and 'id="live-status"' not in html  # a refused socket would retry forever


def test_the_markets_page_marks_each_model_probability_for_live_updates(staff_client, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    html = staff_client.get(reverse("dashboard-markets")).content.decode()
    for market, shown in ((world.low, "10.0%"), (world.mid, "75.0%"), (world.high, "15.0%")):
        assert f'data-live-probability="{market.ticker}">{shown}</td>' in html
