from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets.tests.factories import EventFactory, MarketFactory
from prediction.models import BracketProbability, ModelVersion, Prediction

pytestmark = pytest.mark.django_db


def _model() -> ModelVersion:
    return ModelVersion.objects.create(
        name="emos", version=1, kind="statistical", validation_scores={"brier": 0.18}, artifact=b"secret-bytes"
    )


def _predictions(n: int, model: ModelVersion, hour: int = 12) -> list[Prediction]:
    made = []
    for _ in range(n):
        event = EventFactory.create()
        prediction = Prediction.objects.create(
            model_version=model, event=event, as_of=datetime(2025, 2, 27, hour, tzinfo=UTC), mean_f=44.0, std_f=2.0
        )
        for market in MarketFactory.create_batch(2, event=event):
            BracketProbability.objects.create(prediction=prediction, market=market, probability=Decimal("0.25"))
        made.append(prediction)
    return made


def test_predictions_carry_their_bracket_probabilities(staff_client):
    _predictions(1, _model())
    shown = staff_client.get("/api/predictions/").json()["results"][0]
    assert len(shown["brackets"]) == 2 and shown["brackets"][0]["probability"] == "0.25000000"


def test_one_prediction_carries_its_brackets_too(staff_client):
    [prediction] = _predictions(1, _model())
    shown = staff_client.get(f"/api/predictions/{prediction.pk}/").json()
    assert [b["probability"] for b in shown["brackets"]] == ["0.25000000", "0.25000000"]


def test_predictions_page_by_cursor_newest_first_without_a_count(staff_client):
    made = _predictions(5, _model())  # one as_of: the id breaks the tie, newest first
    first = staff_client.get("/api/predictions/", {"page_size": 2}).json()
    assert "count" not in first and first["previous"] is None
    second = staff_client.get(first["next"]).json()
    third = staff_client.get(second["next"]).json()
    shown = [p["id"] for page in (first, second, third) for p in page["results"]]
    assert shown == [p.pk for p in reversed(made)] and third["next"] is None


def test_as_of_before_answers_what_we_believed_then(staff_client):
    model = _model()
    _predictions(1, model, hour=8)
    _predictions(1, model, hour=16)
    then = staff_client.get("/api/predictions/", {"as_of_before": "2025-02-27T12:00:00Z"}).json()
    assert [p["as_of"] for p in then["results"]] == ["2025-02-27T08:00:00Z"]


def test_the_prediction_list_costs_the_same_queries_for_3_or_30(staff_client):
    model = _model()

    def queries(n: int) -> int:
        _predictions(n, model)
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get("/api/predictions/", {"page_size": 500}).status_code == 200
        return len(ctx.captured_queries)

    assert queries(3) == queries(27)


def test_model_versions_show_scores_and_never_the_artifact(staff_client):
    _model()
    shown = staff_client.get("/api/model-versions/").json()["results"][0]
    assert shown["validation_scores"] == {"brier": 0.18}
    assert "artifact" not in shown and "secret" not in str(shown)


def test_the_model_version_list_costs_the_same_queries_for_3_or_30(staff_client, django_assert_num_queries):
    scores = {"overall": {"n_events": 40, "brier_model": 0.2, "brier_market": 0.21}}
    for count, first in ((3, 1), (27, 4)):
        ModelVersion.objects.bulk_create(
            ModelVersion(name="emos", version=v, kind="statistical", validation_scores=scores)
            for v in range(first, first + count)
        )
        # The session and user, then the page's count and rows: the score tables are read from each row.
        with django_assert_num_queries(4):
            shown = staff_client.get("/api/model-versions/", {"page_size": 500}).json()
        assert shown["count"] == first + count - 1 and shown["results"][0]["scores"][0]["brier_model"] == "0.2000"
