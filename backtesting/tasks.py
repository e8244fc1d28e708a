"""The Celery task that runs a backtest started from the dashboard or the API (see backtesting.launch).

The run's progress is stored on the run and broadcast as ``backtest.progress``
events, so a page that loads late reads where it is and a page already open
follows it live. A long replay advances thousands of times a second: writes
are throttled to one per ``MIN_INTERVAL`` (a stage change included), and the
final status is always written and broadcast.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import shared_task
from django.utils import timezone

from backtesting.launch import request_for
from backtesting.models import BacktestRun
from backtesting.services import run_and_store
from kalshiweb.realtime import BacktestProgressPayload, broadcast_on_commit

logger = logging.getLogger(__name__)

RUN_HOURS = 6
MIN_INTERVAL = 0.5  # seconds between stored updates: at most two a second
MESSAGE_LENGTH = BacktestRun._meta.get_field("progress_message").max_length or 255


class RunProgress:
    """A :class:`kalshiweb.progress.Progress` that stores the current step on the run and broadcasts it."""

    def __init__(self, run: BacktestRun, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.run = run
        self._clock = clock
        self._last: float | None = None
        self._done = 0.0
        self._total = 0.0
        self._message = ""

    def stage(self, description: str, total: float | None = None) -> None:
        self._message, self._total, self._done = description, total or 0.0, 0.0
        self._write()

    def advance(self, amount: float = 1) -> None:
        self._done += amount
        self._write()

    def _write(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and self._last is not None and now - self._last < MIN_INTERVAL:
            return
        self._last = now
        self.run.progress_done = int(self._done)
        self.run.progress_total = int(self._total)
        self.run.progress_message = self._message[:MESSAGE_LENGTH]
        BacktestRun.objects.filter(pk=self.run.pk).update(
            progress_done=self.run.progress_done,
            progress_total=self.run.progress_total,
            progress_message=self.run.progress_message,
        )
        publish(self.run)

    def finish(self, status: str, message: str) -> None:
        """The last update: the run's final status, always stored and broadcast."""
        self.run.status = status
        self._message = message
        self._done = self._total = max(self._total, self._done, 1)
        BacktestRun.objects.filter(pk=self.run.pk).update(finished_at=timezone.now())
        self._write(force=True)


def progress_event(run: BacktestRun) -> BacktestProgressPayload:
    return {
        "type": "backtest.progress",
        "run": run.pk,
        "status": str(run.status),
        "done": run.progress_done,
        "total": run.progress_total,
        "message": run.progress_message,
    }


def publish(run: BacktestRun) -> None:
    broadcast_on_commit(progress_event(run))


# No retry: a failed backtest is stored as failed with its error; the operator starts another.
# A year of several cities takes long on first run (the model's forecasts): hours, not the default minutes.
@shared_task(ignore_result=True, soft_time_limit=RUN_HOURS * 3600, time_limit=RUN_HOURS * 3600 + 60)
def run_backtest_task(run_id: int) -> str:
    """Run the pending backtest ``run_id`` through the backtest service; returns its final status."""
    # Claimed by one conditional update, so a task delivered twice runs the backtest once.
    claimed = BacktestRun.objects.filter(pk=run_id, status=BacktestRun.Status.PENDING).update(
        status=BacktestRun.Status.RUNNING
    )
    if not claimed:
        logger.warning("Backtest run %s is not pending; not run again", run_id)
        return "skipped"
    run = BacktestRun.objects.get(pk=run_id)
    progress = RunProgress(run)
    try:
        request = request_for(run)
    except (KeyError, ValueError) as exc:
        BacktestRun.objects.filter(pk=run.pk).update(status=BacktestRun.Status.FAILED, error=str(exc))
        progress.finish(BacktestRun.Status.FAILED, f"Failed: {exc}")
        return str(BacktestRun.Status.FAILED)
    progress.stage("Starting")
    try:
        outcome = run_and_store(request, now=timezone.now(), progress=progress, run=run)
    except Exception as exc:
        logger.exception("Backtest run %s failed", run.pk)
        progress.finish(BacktestRun.Status.FAILED, f"Failed: {exc}")
        return str(BacktestRun.Status.FAILED)
    fills, events = outcome.run.trades.count(), outcome.report["n_events"]
    progress.finish(BacktestRun.Status.SUCCEEDED, f"Finished: {fills:,} fills over {events:,} events")
    return str(BacktestRun.Status.SUCCEEDED)
