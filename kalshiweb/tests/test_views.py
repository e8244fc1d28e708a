from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse
from django.utils import timezone

from trading.models import TradingState

pytestmark = pytest.mark.django_db


def test_the_status_page_needs_staff(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_status_page_shows_state_components_and_cities(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Halted" in page
    assert "New installation: review the risk limits" in page
    for component in ("database", "channel_layer", "broker", "worker"):
        assert component in page
    assert "Central Park (KNYC)" in page
    assert "data-live-trading-state" in page  # live.js (in base.html) updates it over /ws/events/


def test_metrics_are_exported(client):
    TradingState.load()
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'kalshiweb_trading_state{state="halted"} 1.0' in body
    assert "django_http_requests_total_by_method_total" in body


def test_the_feed_state_is_exported(client):
    from kalshiweb.health import FEED_COMPONENT
    from kalshiweb.models import Heartbeat

    detail = {"connected": True, "last_frame_age_seconds": 1.5, "reconnects": 2, "gaps": 3, "stale_books": 1}
    Heartbeat.objects.beat(FEED_COMPONENT, now=timezone.now(), detail=detail)
    body = client.get("/metrics").content.decode()
    for line in (
        "kalshiweb_feed_connected 1.0",
        "kalshiweb_feed_last_frame_age_seconds 1.5",
        "kalshiweb_feed_reconnects_total 2.0",
        "kalshiweb_feed_sequence_gaps_total 3.0",
        "kalshiweb_feed_stale_books 1.0",
    ):
        assert line in body


def test_the_admin_lists_and_opens_every_model(staff_client):
    """Every admin page an operator can reach renders (the singletons redirect to their row)."""
    for model, model_admin in site._registry.items():
        opts = model._meta
        changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), follow=True)
        assert changelist.status_code == 200, f"{opts.label} changelist"
        if model_admin.has_add_permission(changelist.wsgi_request):
            add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
            assert add.status_code == 200, f"{opts.label} add"


def test_the_admin_search_and_filters_work(staff_client):
    response = staff_client.get(reverse("admin:weather_city_changelist"), {"q": "KNYC", "is_active__exact": "1"})
    assert response.status_code == 200
    assert [city.name for city in response.context["cl"].result_list] == ["New York"]
