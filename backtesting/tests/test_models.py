from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from backtesting.models import BacktestRun

pytestmark = pytest.mark.django_db


def test_a_run_needs_ordered_dates():
    run = BacktestRun(start_date=date(2025, 2, 1), end_date=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="must not be before"):
        run.full_clean()
    with pytest.raises(IntegrityError):
        run.save()


def test_a_run_starts_pending_with_empty_metrics():
    run = BacktestRun.objects.create(start_date=date(2025, 1, 1), end_date=date(2025, 2, 1), series=["KXHIGHNY"])
    assert (run.status, run.metrics) == ("pending", {})
