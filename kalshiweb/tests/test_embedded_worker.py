"""The embedded Celery worker leaves the process able to start another worker after it stops."""

from __future__ import annotations

from celery.worker import state as worker_state

from kalshiweb.celery import app
from kalshiweb.embedded import EmbeddedWorker


def test_a_stopped_embedded_worker_clears_the_process_wide_stop_flags():
    app.conf.task_always_eager = False
    worker = EmbeddedWorker(app)
    try:
        worker.start()
        worker.stop(10)
    finally:
        app.conf.task_always_eager = True
    # Left set, celery's own test worker (or the next embedded one) would stop before it was ready.
    assert worker_state.should_stop is None and worker_state.should_terminate is None
