"""Every periodic task, in one place, synced into django-celery-beat by ``manage.py setup`` (and ``runembedded``).

Intervals in seconds; each entry says when and why it fires. The entries are
listed in pipeline order: sync markets → fetch weather → predict → trading
cycle → settle → reconcile → retrain. Beat fires each on its own interval;
every step works from whatever the previous ones last stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

SERIES_DISCOVERY_SECONDS = 24 * 60 * 60
MARKET_SYNC_SECONDS = 5 * 60
SETTLE_SECONDS = 10 * 60
RECONCILE_SECONDS = 10 * 60


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str
    task: str
    every_seconds: int
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def periodic_tasks() -> list[PeriodicTaskSpec]:
    return [
        PeriodicTaskSpec(
            name="heartbeat",
            task="kalshiweb.tasks.heartbeat_task",
            every_seconds=settings.HEARTBEAT_INTERVAL_SECONDS,
            description="Every few seconds: proves beat and a worker are running (health 'worker').",
        ),
        PeriodicTaskSpec(
            name="discover series",
            task="markets.tasks.discover_series_task",
            every_seconds=SERIES_DISCOVERY_SECONDS,
            description="Daily: picks up new Kalshi temperature series and checks their stations against our cities.",
        ),
        PeriodicTaskSpec(
            name="sync markets",
            task="markets.tasks.sync_markets_task",
            every_seconds=MARKET_SYNC_SECONDS,
            description="Every 5 minutes: new events, prices and, after settlement, results of the traded series.",
        ),
        PeriodicTaskSpec(
            name="fetch forecasts",
            task="weather.tasks.fetch_forecasts_task",
            every_seconds=30 * 60,
            description="Every 30 minutes: all enabled forecast sources for every active city (models update hourly).",
        ),
        PeriodicTaskSpec(
            name="fetch observations",
            task="weather.tasks.fetch_observations_task",
            every_seconds=5 * 60,
            description="Every 5 minutes: climate reports, and running extremes of cities that are due "
            "(every 10 minutes in the last 6 hours of their climate day, hourly before).",
        ),
        PeriodicTaskSpec(
            name="update forecast accuracy",
            task="weather.tasks.update_accuracy_task",
            every_seconds=6 * 60 * 60,
            description="Every 6 hours: rolling MAE and bias per source, model and lead time.",
        ),
        PeriodicTaskSpec(
            name="predict",
            task="prediction.tasks.predict_task",
            every_seconds=10 * 60,
            description="Every 10 minutes: the promoted model's bracket probabilities for every open event "
            "(nothing while the model is not ready; health 'model' says why).",
        ),
        PeriodicTaskSpec(
            name="trading cycle",
            task="trading.tasks.trading_cycle_task",
            every_seconds=settings.TRADING_CYCLE_SECONDS,
            description="Every TRADING_CYCLE_SECONDS (5 minutes by default): the strategy decides on every open "
            "market and the mode's broker places what risk allows (nothing while halted; LIVE only when armed).",
        ),
        PeriodicTaskSpec(
            name="settle",
            task="trading.tasks.settle_task",
            every_seconds=SETTLE_SECONDS,
            description="Every 10 minutes: DRY paper positions in markets that have settled are paid $1 or $0 "
            "(DEMO and LIVE take their settlements from the exchange, in reconciliation).",
        ),
        PeriodicTaskSpec(
            name="reconcile",
            task="trading.tasks.reconcile_task",
            every_seconds=RECONCILE_SECONDS,
            description="Every 10 minutes: DEMO and LIVE orders, fills, positions, settlements and balance "
            "against the exchange's; resolves unknown orders, which block their markets until then.",
        ),
        PeriodicTaskSpec(
            name="train model",
            task="prediction.tasks.train_model_task",
            every_seconds=24 * 60 * 60,
            description="Daily: a new model version from everything known, promoted only if it beats the current one "
            "on the events since that one was trained.",
        ),
        PeriodicTaskSpec(
            name="check settlements",
            task="markets.tasks.check_settlements_task",
            every_seconds=6 * 60 * 60,
            description="Every 6 hours: the last two weeks' observed highs against what Kalshi settled on.",
        ),
    ]
