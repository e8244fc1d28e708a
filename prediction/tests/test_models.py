from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from prediction.models import ModelVersion

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
MAX_AGE = timedelta(days=14)


def model(version: int, **kwargs):
    return ModelVersion.objects.create(name="emos-high", version=version, kind="statistical", **kwargs)


def test_no_model_means_not_ready():
    readiness = ModelVersion.objects.readiness(now=NOW, max_age=MAX_AGE)
    assert (readiness.ready, readiness.reason) == (False, "no promoted model yet")


def test_a_candidate_is_not_enough():
    model(1, trained_at=NOW)
    assert not ModelVersion.objects.readiness(now=NOW, max_age=MAX_AGE).ready


def test_a_stale_model_is_not_ready_and_says_why():
    model(1, status="promoted", trained_at=NOW - timedelta(days=30), promoted_at=NOW - timedelta(days=30))
    readiness = ModelVersion.objects.readiness(now=NOW, max_age=MAX_AGE)
    assert not readiness.ready
    assert "emos-high v1 was trained more than 14 days ago" in readiness.reason


def test_a_fresh_promoted_model_is_ready():
    promoted = model(2, status="promoted", trained_at=NOW - timedelta(days=1), promoted_at=NOW)
    readiness = ModelVersion.objects.readiness(now=NOW, max_age=MAX_AGE)
    assert readiness.ready
    assert readiness.model == promoted


def test_only_one_version_of_a_model_is_promoted():
    model(1, status="promoted", trained_at=NOW)
    with pytest.raises(IntegrityError):
        model(2, status="promoted", trained_at=NOW)


def test_the_newest_prediction_of_each_event_by_now_and_of_that_model_only():
    from markets.tests.factories import EventFactory
    from prediction.models import Prediction

    ours, other = model(1, status="promoted"), model(2)
    first, second, unpredicted = EventFactory.create_batch(3)

    def predict(version, event, hours):
        return Prediction.objects.create(model_version=version, event=event, as_of=NOW + timedelta(hours=hours))

    predict(ours, first, -3)
    newest_first = predict(ours, first, -1)
    predict(ours, first, 1)  # made after now
    predict(other, first, 0)  # another model's
    newest_second = predict(ours, second, 0)
    found = Prediction.objects.newest_per_event(ours, [first.pk, second.pk, unpredicted.pk], NOW)
    assert {p.event_id: p.pk for p in found} == {first.pk: newest_first.pk, second.pk: newest_second.pk}
