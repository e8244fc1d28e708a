"""Requests schemathesis found answering 500; each is now a 400 naming the parameter."""

from __future__ import annotations

import pytest

from weather.tests.factories import ForecastSnapshotFactory

pytestmark = pytest.mark.django_db
PAST_64_BITS = 2**63
PAST_YEAR_9999_IN_UTC = "9999-12-31T23:59:59-23:00"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/markets/", "city"),
        ("/api/predictions/", "city"),
    ],
)
def test_an_id_past_64_bits_is_400_not_an_overflow(staff_client, path, parameter):
    response = staff_client.get(path, {parameter: PAST_64_BITS})
    assert response.status_code == 400
    assert parameter in response.json()["error"]["fields"]
    assert staff_client.get(path, {parameter: 1}).status_code == 200


def test_cancelling_an_id_past_64_bits_is_400(staff_client):
    response = staff_client.post("/api/orders/cancel/", {"ids": [PAST_64_BITS]}, content_type="application/json")
    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/forecasts/", "as_of"),
        ("/api/running-extremes/", "as_of"),
        ("/api/decisions/", "at_after"),
        ("/api/predictions/", "as_of_before"),
    ],
)
def test_a_time_whose_utc_is_past_year_9999_is_400(staff_client, path, parameter):
    response = staff_client.get(path, {parameter: PAST_YEAR_9999_IN_UTC})
    assert response.status_code == 400
    assert response.json()["error"]["fields"][parameter] == [
        "Out of range: give a time between years 1 and 9999 in UTC."
    ]


def test_a_time_with_an_offset_is_read_as_the_same_instant(staff_client):
    ForecastSnapshotFactory.create()  # available 2025-01-31 15:00 UTC
    known = staff_client.get("/api/forecasts/", {"as_of": "2025-01-31T10:00:00-05:00"}).json()
    assert len(known["results"]) == 1
    before = staff_client.get("/api/forecasts/", {"as_of": "2025-01-31T09:59:59-05:00"}).json()
    assert before["results"] == []


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000],
    ids=["arrays", "objects"],
)
def test_json_nested_too_deeply_is_a_400_not_a_500(admin_client, body):
    response = admin_client.post("/api/orders/cancel/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "JSON parse error - the body is nested too deeply."
