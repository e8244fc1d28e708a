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
