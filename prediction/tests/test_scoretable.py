"""Validation scores as a table a person reads, in the dashboard and in the API's model versions."""

from __future__ import annotations

import pytest

from prediction.models import ModelVersion
from prediction.scoretable import overall, score_rows

pytestmark = pytest.mark.django_db

SCORES = {
    "KXHIGHNY 10:00 on the day": {"n_events": 40, "brier_model": 0.2, "brier_market": 0.21},
    "overall": {
        "n_events": 120, "brier_model": 0.2134049, "brier_market": 0.1987, "brier_model_minus_market": 0.0147049,
        "brier_model_minus_market_ci": [0.00512, 0.0239], "log_loss_model": 0.61, "log_loss_market": 0.6,
    },
    "note": "not a table",
}  # fmt: skip


def test_rows_put_overall_first_and_read_with_four_decimals():
    rows = score_rows(SCORES)
    assert [r.section for r in rows] == ["overall", "KXHIGHNY 10:00 on the day"]
    assert rows[0].readable() == {
        "section": "overall", "events": 120, "brier_model": "0.2134", "brier_market": "0.1987",
        "brier_model_minus_market": "+0.0147", "brier_model_minus_market_95ci": "+0.0051 to +0.0239",
        "log_loss_model": "0.6100", "log_loss_market": "0.6000", "log_loss_model_minus_market": "n/a",
        "log_loss_model_minus_market_95ci": "",
    }  # fmt: skip
    assert overall(SCORES) == rows[0] and overall({"brier": 0.18}) is None


def test_the_api_shows_model_versions_with_readable_scores(staff_client):
    ModelVersion.objects.create(name="bracket-model", version=1, kind="blend", validation_scores=SCORES)
    shown = staff_client.get("/api/model-versions/").json()["results"][0]
    assert shown["scores"][0]["section"] == "overall" and shown["scores"][0]["brier_model"] == "0.2134"
    assert shown["scores"][1]["brier_model_minus_market"] == "n/a" and shown["validation_scores"] == SCORES
