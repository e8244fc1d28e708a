"""Every benchmark still runs (quick sizes); the figures themselves are never asserted."""

from __future__ import annotations

import importlib
import math

import pytest

from benchmarks import Figure, Skip
from benchmarks.__main__ import discover


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded cities
@pytest.mark.parametrize("name", discover())
def test_the_benchmark_runs_and_reports_figures(name):
    try:
        figures = importlib.import_module(f"benchmarks.{name}").run(quick=True)
    except Skip as skip:
        pytest.skip(str(skip))
    assert figures
    for figure in figures:
        assert isinstance(figure, Figure)
        assert math.isfinite(figure.value) and figure.value > 0, figure
