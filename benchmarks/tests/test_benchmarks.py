"""Every benchmark still runs (quick sizes); the figures themselves are never asserted."""

from __future__ import annotations

import importlib
import math
from decimal import Decimal

import pytest

from benchmarks import Figure, Skip
from benchmarks.__main__ import discover
from weather.models import City
from weather.tests.factories import CityFactory


@pytest.fixture
def cities():
    """A transactional test earlier in this worker may have flushed the seeded cities."""
    if not City.objects.exists():
        for n, (lat, zone, offset) in enumerate([(40.78, "America/New_York", -300), (41.78, "America/Chicago", -360)]):
            CityFactory.create(
                latitude=Decimal(str(lat)),
                longitude=Decimal(f"-{74 + 13 * n}.0"),
                timezone=zone,
                standard_utc_offset_minutes=offset,
            )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", discover())
def test_the_benchmark_runs_and_reports_figures(name, cities):
    try:
        figures = importlib.import_module(f"benchmarks.{name}").run(quick=True)
    except Skip as skip:
        pytest.skip(str(skip))
    assert figures
    for figure in figures:
        assert isinstance(figure, Figure)
        assert math.isfinite(figure.value), figure
        # Memory growth of a quick run can round to nothing; every other figure is a time or a rate.
        assert figure.value > 0 or (figure.unit == "MiB" and figure.value == 0), figure
