"""Today's markets: each bracket's model probability against its book, and the last cycle's verdict, per city."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trading.brokers import PaperBroker
from trading.cycle import run_cycle
from trading.models import RiskLimits
from trading.services import resume_trading
from trading.tests.world import NOW, build_world, quiet_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(time_machine):
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    world = build_world()
    quiet_books(world)
    RiskLimits.load()
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=1))
    return world


def test_it_shows_each_bracket_against_the_book_and_the_verdict(staff_client, world):
    run_cycle(PaperBroker(), now=NOW)
    html = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert "Testville" in html and world.event.event_ticker in html
    row = html.split(f'data-ticker="{world.mid.ticker}"')[1].split("</tr>")[0]
    assert "40° to 41°" in row and "75.0%" in row  # the model
    assert "38¢" in row and "42¢" in row  # the book's bid and ask
    assert "Order sent" in row and "YES" in row
    low = html.split(f'data-ticker="{world.low.ticker}"')[1].split("</tr>")[0]
    assert "39° or below" in low  # Kalshi's "less than 40" tail


def test_before_any_cycle_it_says_so(staff_client, world):
    html = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert "not decided yet" in html and "75.0%" in html


def test_it_is_for_staff_only(client, world):
    response = client.get(reverse("dashboard-markets"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_its_queries_do_not_grow_with_the_cities(staff_client, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse("dashboard-markets")).status_code == 200
        return len(captured.captured_queries)

    run_cycle(PaperBroker(), now=NOW)
    one_city = queries()
    quiet_books(build_world(series="KXHIGHTEST2", city_name="Otherville"))
    run_cycle(PaperBroker(), now=NOW + timedelta(seconds=30))
    assert queries() == one_city


def test_the_verdicts_are_of_the_latest_cycle_of_the_mode_that_logged_the_markets(settings):
    from dashboard.views.markets import _latest_decisions
    from trading.models import DecisionLogEntry, TradingCycle

    settings.TRADING_MODE = "DRY"

    def logged(mode: str, minutes: int, tickers: list[str], verdict: str) -> None:
        cycle = TradingCycle.objects.create(mode=mode, strategy="edge", as_of=NOW + timedelta(minutes=minutes))
        for ticker in tickers:
            DecisionLogEntry.objects.create(
                cycle=cycle, mode=mode, at=cycle.as_of, strategy="edge", event_ticker="E", ticker=ticker,
                verdict=verdict,
            )  # fmt: skip

    logged("DRY", 0, ["A", "B"], "ordered")
    logged("DRY", 20, ["A"], "passed")
    logged("DRY", 40, ["Z"], "refused")  # another market's: not ours
    logged("LIVE", 60, ["A", "B"], "blocked")  # another mode's
    latest = _latest_decisions(["A", "B"])
    assert {ticker: entry.verdict for ticker, entry in latest.items()} == {"A": "passed"}
    assert _latest_decisions(["Y"]) == {}


def test_each_event_has_a_price_chart_of_the_last_day_with_our_fills(staff_client, world):
    from django.utils import timezone

    from dashboard.views.market_charts import price_charts
    from trading.snapshot import StoredBooks, event_views, model_probabilities, open_events
    from trading.tests.world import trade

    for n, (minutes, price) in enumerate([(25 * 60, "0.20"), (90, "0.30"), (62, "0.33"), (61, "0.36"), (5, "0.40")]):
        trade(world.mid, yes_price=price, count="3", taker="yes", at=NOW - timedelta(minutes=minutes), trade_id=f"t{n}")
    run_cycle(PaperBroker(), now=NOW)  # takes the mid bracket's 42¢ ask

    now = timezone.now()
    events = open_events(now)
    views = event_views(events, now, StoredBooks(), *model_probabilities(events, now))
    chart = price_charts(views, mode="DRY", now=now)[world.event.event_ticker]
    [line] = chart["lines"]
    assert line["label"] == "40° to 41°"
    # Older than a day is left out; 62 and 61 minutes ago share a five-minute bucket: its last print stays.
    assert [p["y"] for p in line["data"]] == [30.0, 36.0, 40.0]
    assert [p["x"] for p in line["data"]] == [-91.0, -62.0, -6.0]
    assert chart["fills"] and chart["fills"][0]["y"] == 42.0
    assert chart["fills"][0]["label"].startswith("40° to 41°: bought ") and "YES at 42¢" in chart["fills"][0]["label"]

    html = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert f'data-price-chart="{world.event.event_ticker}"' in html and 'id="price-charts"' in html


def test_it_shows_one_climate_day_at_a_time_the_first_open_one_unless_asked(staff_client, world):
    from trading.drill import world as drill
    from trading.tests.world import CLOSE, DAY

    tomorrow = drill.list_event(
        world.event.series,
        DAY + timedelta(days=1),
        drill.brackets(40, between=1),
        open_time=NOW - timedelta(hours=1),
        close_time=CLOSE + timedelta(days=1),
    ).event
    first = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert world.event.event_ticker in first and tomorrow.event_ticker not in first
    assert f'href="?day={tomorrow.target_date:%Y-%m-%d}"' in first
    asked = staff_client.get(reverse("dashboard-markets"), {"day": f"{tomorrow.target_date:%Y-%m-%d}"}).content.decode()
    assert tomorrow.event_ticker in asked and f"{world.event.event_ticker}</span>" not in asked
    for unknown in ("2099-01-01", "not-a-day"):
        shown = staff_client.get(reverse("dashboard-markets"), {"day": unknown}).content.decode()
        assert world.event.event_ticker in shown


def test_it_shows_a_few_cities_a_page_and_links_every_city_of_the_day(staff_client, world, monkeypatch):
    from dashboard.views import markets

    monkeypatch.setattr(markets, "EVENTS_PER_PAGE", 2)
    others = [build_world(series=f"KXHIGHT{n}", city_name=name) for n, name in enumerate(["Alpha", "Zulu"])]
    alpha, zulu = (other.event.event_ticker for other in others)
    mine = world.event.event_ticker  # Testville: by name, Alpha and Testville make the first page, Zulu the second
    day = f"{world.event.target_date:%Y-%m-%d}"

    first = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert f'id="{alpha}"' in first and f'id="{mine}"' in first and f'id="{zulu}"' not in first
    assert f'href="#{alpha}"' in first and f'href="?day={day}&amp;page=2#{zulu}"' in first
    assert f'href="?day={day}&amp;page=2">next cities →' in first and "previous cities" not in first

    second = staff_client.get(reverse("dashboard-markets"), {"day": day, "page": "2"}).content.decode()
    assert f'id="{zulu}"' in second and f'id="{alpha}"' not in second
    assert f'href="?day={day}&amp;page=1">← previous cities' in second and "next cities" not in second
    for unknown in ("3", "0", "two", "²", "9" * 23):
        shown = staff_client.get(reverse("dashboard-markets"), {"page": unknown}).content.decode()
        assert f'id="{alpha}"' in shown and f'id="{zulu}"' not in shown


def test_one_city_needs_no_city_links(staff_client, world):
    html = staff_client.get(reverse("dashboard-markets")).content.decode()
    assert "Cities (" not in html and "next cities" not in html
