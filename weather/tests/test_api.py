from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from weather.models import Observation, RunningExtreme
from weather.tests.factories import CityFactory, ForecastSnapshotFactory, ObservationFactory

pytestmark = pytest.mark.django_db
DAY = date(2025, 2, 1)
RUN = datetime(2025, 1, 31, 0, tzinfo=UTC)
SERIAL = itertools.count()


def _runs(city, source: str = "open-meteo", hours: tuple[int, ...] = (0, 6, 12), day: date = DAY) -> None:
    """One forecast of ``day`` per run hour, each available three hours after it was issued."""
    for hour in hours:
        issued = RUN + timedelta(hours=hour)
        ForecastSnapshotFactory.create(
            city=city,
            source=source,
            target_date=day,
            issued_at=issued,
            available_at=issued + timedelta(hours=3),
            high_f=40.0 + hour,
        )


def _highs(response) -> list[float]:
    assert response.status_code == 200, response.content
    return [row["high_f"] for row in response.json()["results"]]


def test_as_of_shows_only_forecasts_available_by_then(staff_client):
    _runs(CityFactory.create())
    assert _highs(staff_client.get("/api/forecasts/", {"as_of": "2025-01-31T09:00:00Z"})) == [46.0, 40.0]
    assert _highs(staff_client.get("/api/forecasts/", {"as_of": "2025-01-31T02:59:59Z"})) == []


def test_latest_keeps_the_newest_run_known_then_per_city_source_and_day(staff_client):
    city, other = CityFactory.create(name="A"), CityFactory.create(name="B")
    _runs(city)
    _runs(city, source="nws", hours=(1,))
    _runs(other, hours=(0,))
    _runs(city, hours=(0, 6), day=DAY + timedelta(days=1))
    then = {"as_of": "2025-01-31T10:00:00Z", "latest": "true"}
    shown = staff_client.get("/api/forecasts/", then).json()["results"]
    assert [(r["city_name"], r["target_date"], r["source"], r["high_f"]) for r in shown] == [
        ("A", "2025-02-01", "nws", 41.0),
        ("A", "2025-02-01", "open-meteo", 46.0),  # the 12:00 run was published at 15:00: not known yet
        ("A", "2025-02-02", "open-meteo", 46.0),
        ("B", "2025-02-01", "open-meteo", 40.0),
    ]
    assert len(staff_client.get("/api/forecasts/", {**then, "city": other.pk}).json()["results"]) == 1


def test_latest_without_as_of_is_the_newest_known_now(staff_client):
    _runs(CityFactory.create())
    assert _highs(staff_client.get("/api/forecasts/", {"latest": "true"})) == [52.0]


def test_forecasts_filter_by_source_and_target_date_range(staff_client):
    city = CityFactory.create()
    _runs(city)
    _runs(city, source="nws", day=DAY + timedelta(days=2))
    assert _highs(staff_client.get("/api/forecasts/", {"source": "nws", "latest": "true"})) == [52.0]
    assert len(_highs(staff_client.get("/api/forecasts/", {"target_date_after": "2025-02-02"}))) == 3
    assert len(_highs(staff_client.get("/api/forecasts/", {"target_date": "2025-02-01"}))) == 3


def test_a_bad_as_of_is_400_naming_the_field(staff_client):
    response = staff_client.get("/api/forecasts/", {"as_of": "yesterday"})
    assert response.status_code == 400
    assert "as_of" in response.json()["error"]["fields"]


def test_observations_filter_by_city_and_date_range(staff_client):
    city = CityFactory.create()
    for n in range(5):
        ObservationFactory.create(city=city, date=DAY + timedelta(days=n), high_f=40.0 + n)
    ObservationFactory.create(date=DAY)
    shown = staff_client.get(
        "/api/observations/", {"city": city.pk, "date_after": "2025-02-02", "date_before": "2025-02-03"}
    ).json()
    assert [(o["date"], o["high_f"], o["source"]) for o in shown["results"]] == [
        ("2025-02-03", 42.0, "cli"),
        ("2025-02-02", 41.0, "cli"),
    ]


def test_running_extremes_as_of_hide_what_was_learned_later(staff_client):
    city = CityFactory.create()
    for hour, high in [(14, 38.0), (17, 41.0), (20, 43.0)]:
        at = datetime(2025, 2, 1, hour, tzinfo=UTC)
        RunningExtreme.objects.create(city=city, date=DAY, observed_at=at, recorded_at=at, max_f=high)
    shown = staff_client.get("/api/running-extremes/", {"city": city.pk, "as_of": "2025-02-01T18:00:00Z"}).json()
    assert [r["max_f"] for r in shown["results"]] == [41.0, 38.0]


def _weather(n: int) -> None:
    for _ in range(n):
        city = CityFactory.create()
        _runs(city, hours=(0, 6))
        ObservationFactory.create(city=city, source=Observation.Source.CLI)
        at = RUN + timedelta(minutes=next(SERIAL))
        RunningExtreme.objects.create(city=city, date=DAY, observed_at=at, recorded_at=at, max_f=40.0)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/forecasts/", {}),
        ("/api/forecasts/", {"latest": "true", "as_of": "2025-01-31T12:00:00Z"}),
        ("/api/observations/", {}),
        ("/api/running-extremes/", {}),
        ("/api/cities/", {}),
    ],
)
def test_each_list_costs_the_same_queries_for_3_or_30_cities(staff_client, django_assert_num_queries, path, query):
    for n in (3, 27):
        _weather(n)
        # The session and user, then the page's count (the hourly logs have none) and rows: the same for any number.
        with django_assert_num_queries(3 if path in ("/api/forecasts/", "/api/running-extremes/") else 4):
            assert staff_client.get(path, {**query, "page_size": 500}).status_code == 200


def test_the_lists_order_cities_by_id_not_name_so_an_index_serves_them(staff_client):
    first, second = CityFactory.create(name="Zenith"), CityFactory.create(name="Abbot")
    for city in (first, second):
        _runs(city, hours=(0,))
        ObservationFactory.create(city=city, date=DAY)
        RunningExtreme.objects.create(city=city, date=DAY, observed_at=RUN, recorded_at=RUN, max_f=40.0)

    def cities(path: str) -> list[str]:
        return [row["city_name"] for row in staff_client.get(path, {"as_of": "2025-02-01T00:00:00Z"}).json()["results"]]

    assert cities("/api/forecasts/") == ["Zenith", "Abbot"]
    assert cities("/api/observations/") == ["Zenith", "Abbot"]
    assert cities("/api/running-extremes/") == ["Abbot", "Zenith"]  # wholly newest first: the index backwards


def test_forecasts_are_paged_by_number_without_a_count(staff_client):
    city = CityFactory.create()
    _runs(city, hours=(0, 1, 2, 3, 4))
    asked = {"as_of": "2025-02-01T00:00:00Z", "page_size": 2}

    first = staff_client.get("/api/forecasts/", asked).json()
    assert set(first) == {"next", "previous", "results"} and first["previous"] is None
    assert _highs_of(first) == [44.0, 43.0] and "page=2" in first["next"]
    second = staff_client.get(first["next"]).json()
    assert _highs_of(second) == [42.0, 41.0] and "page=3" in second["next"]
    assert "page=" not in second["previous"] and "page_size=2" in second["previous"]  # page 1 is the bare list
    last = staff_client.get(second["next"]).json()
    assert _highs_of(last) == [40.0] and last["next"] is None and "page=2" in last["previous"]
    for wrong in ("4", "0", "last", "-1", "²", "9" * 23, "9" * 5000):
        answer = staff_client.get("/api/forecasts/", {**asked, "page": wrong})
        assert answer.status_code == 404 and answer.json()["error"]["message"] == "Invalid page."


def test_an_empty_list_is_one_empty_page(staff_client):
    answer = staff_client.get("/api/running-extremes/")
    assert answer.status_code == 200 and answer.json() == {"next": None, "previous": None, "results": []}


def _highs_of(page: dict) -> list[float]:
    return [row["high_f"] for row in page["results"]]
