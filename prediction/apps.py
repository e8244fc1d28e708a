from __future__ import annotations

from django.apps import AppConfig


class PredictionConfig(AppConfig):
    """Predictive distributions, bracket probabilities and model lifecycle."""

    name = "prediction"
    verbose_name = "Prediction"
