"""Prediction Celery tasks: train and maybe promote the model daily; predict open events often."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from prediction.services.predict import predict_open_events
from prediction.services.training import TrainingError, train_bracket_model

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=3 * 60 * 60)
def train_model_task() -> None:
    """A new version from everything known now; promoted only if it beats the promoted one."""
    try:
        outcome = train_bracket_model(now=timezone.now())
    except TrainingError as exc:
        logger.warning("No model trained: %s", exc)
        return
    logger.info("Trained %s in %.0fs; %s", outcome.version, outcome.seconds, outcome.reason)


@shared_task(ignore_result=True, soft_time_limit=240)
def predict_task() -> None:
    """Bracket probabilities for every open event, if the model is ready (else the reason is logged)."""
    run = predict_open_events(now=timezone.now())
    logger.info("%d predictions (%s); %d skipped", len(run.predictions), run.reason, len(run.skipped))
