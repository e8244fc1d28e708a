"""Every page says the trading mode, LIVE in a colour nobody misses; money on pages reads as money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kalshiweb.templatetags.money import cents, contracts, dollars, percent
from trading.models import RiskLimits, TradingState
from trading.services import halt_trading, resume_trading, set_trading_state

pytestmark = pytest.mark.django_db

PAGES = ["home", "admin:index", "admin:trading_order_changelist", "admin:trading_risklimits_changelist"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("mode", "note"), [("DRY", "no order leaves this machine"), ("LIVE", "real money")])
def test_every_page_says_the_mode(staff_client, page, mode, note):
    with override_settings(TRADING_MODE=mode):
        html = staff_client.get(reverse(page), follow=True).content.decode()
    assert 'id="mode-banner"' in html and f"<strong>{mode}</strong>" in html and note in html
    assert f'class="mode-banner {mode.lower()}"' in html
    assert ("[LIVE]" in html.split("</title>")[0]) is (mode == "LIVE")  # the browser tab says it too


def test_the_login_page_says_it_before_anyone_signs_in(client):
    with override_settings(TRADING_MODE="LIVE"):
        html = client.get(reverse("admin:login")).content.decode()
    assert "<strong>LIVE</strong>" in html


def test_the_status_page_shows_limits_as_money_not_raw_decimals(staff_client):
    RiskLimits.load()
    html = staff_client.get(reverse("home")).content.decode()
    assert "10 contracts and $10.00;" in html and "$10.000000" not in html and "total ≤ $250.00" in html
    assert "Kelly" in html and "25%." in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("10.000000"), "$10.00"), (Decimal("1234.5"), "$1,234.50"), (Decimal("-3.2"), "-$3.20"),
     (Decimal("0.005"), "$0.01"), (None, ""), ("n/a", "n/a")],
)  # fmt: skip
def test_dollars(value, shown):
    assert dollars(value) == shown


def test_cents():
    prices = ("0.42", "0.425", "-0.035", "-0.0004", "0")
    assert [cents(Decimal(p)) for p in prices] == ["42¢", "42.5¢", "-3.5¢", "0¢", "0¢"]
    assert cents(None) == "—"


def test_contracts_and_percent():
    assert (contracts(Decimal("10.00")), contracts(Decimal("2.50")), contracts(Decimal(1500))) == ("10", "2.5", "1,500")
    assert percent(Decimal("0.250")) == "25%"


BANNER_PAGES = ["home", "dashboard-positions", "dashboard-audit", "admin:index", "admin:trading_order_changelist"]


@pytest.mark.parametrize("page", BANNER_PAGES)
def test_every_page_shows_the_trading_state_for_live_js_to_update(staff_client, page):
    set_trading_state(state="reduce_only", reason="FOMC at 2pm", actor="alice", now=timezone.now())
    html = staff_client.get(reverse(page), follow=True).content.decode()
    banner = html.split('id="mode-banner"')[1].split("</div>")[0]
    assert 'class="trading-state-label reduce_only" data-live-trading-state' in banner
    assert ">Reduce only</a>" in banner and 'title="FOMC at 2pm"' in banner


def test_a_halt_shows_in_the_banner_of_the_next_page(staff_client):
    resume_trading(reason="open", actor="alice", now=timezone.now())
    assert "trading-state-label active" in staff_client.get(reverse("dashboard-positions")).content.decode()
    halt_trading(reason="stop", actor="alice", now=timezone.now())
    assert "trading-state-label halted" in staff_client.get(reverse("dashboard-positions")).content.decode()


def test_a_fresh_installation_says_halted_without_writing_a_row(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert "trading-state-label halted" in html and ">Halted</a>" in html
    assert not TradingState.objects.exists()  # rendering a page never creates the row


def test_the_login_page_does_not_show_the_trading_state(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert "data-live-trading-state" not in html


def test_fragments_and_json_do_not_read_the_trading_state(staff_client):
    with CaptureQueriesContext(connection) as captured:  # htmx swaps in a fragment; the banner stays as it was
        assert staff_client.get(reverse("dashboard-decisions"), HTTP_HX_REQUEST="true").status_code == 200
        assert staff_client.get("/api/orders/", HTTP_ACCEPT="application/json").status_code == 200
    assert not [q for q in captured.captured_queries if 'FROM "trading_tradingstate"' in q["sql"]]


@pytest.mark.parametrize("path", ["/api/", "/api/orders/", "/api/trading/state/"])
@pytest.mark.parametrize("mode", ["DRY", "LIVE"])
def test_the_browsable_api_says_the_mode(staff_client, path, mode):
    """Its forms halt trading and change limits: it is a page like any other."""
    with override_settings(TRADING_MODE=mode):
        html = staff_client.get(path, HTTP_ACCEPT="text/html").content.decode()
    assert f'class="mode-banner {mode.lower()}"' in html and f"<strong>{mode}</strong>" in html
    assert f'<body class="mode-{mode.lower()}">' in html
    assert ("[LIVE]" in html.split("</title>")[0]) is (mode == "LIVE")
    assert "Django REST framework" not in html.split("</title>")[0]


def test_the_api_docs_say_the_mode(staff_client):
    with override_settings(TRADING_MODE="LIVE"):
        html = staff_client.get(reverse("api-docs")).content.decode()
    assert 'class="mode-banner live"' in html and "<strong>LIVE</strong>" in html and 'id="swagger-ui"' in html


def test_a_page_that_is_not_there_says_the_mode_too(staff_client):
    with override_settings(TRADING_MODE="LIVE"):
        seen = staff_client.get("/dashboard/no-such-page/<b>")
        anonymous = Client().get("/no-such-page/")
    html = seen.content.decode()
    assert seen.status_code == 404 and "<strong>LIVE</strong>" in html and "trading-state-label" in html
    assert "<code>/dashboard/no-such-page/%3Cb%3E</code>" in html and "<b>" not in html.split("<main>")[1]
    assert anonymous.status_code == 404 and "<strong>LIVE</strong>" in anonymous.content.decode()
