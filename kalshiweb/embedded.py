"""The embedded runner: web, Celery worker and beat (and the market feed, given a key) in one process.

With the in-memory broker the worker must live in the same process as the
code that enqueues tasks, so it runs in a thread (the way Celery's own test
harness runs one), with the solo pool. Beat runs in a second thread with
django-celery-beat's database scheduler, and uvicorn serves the ASGI app in
the main thread, where it owns the signal handlers. Ctrl-C or SIGTERM stops
the web server gracefully, then beat, then the worker.

Production runs the same pieces as separate processes (see the Procfile).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType
from typing import Any, Protocol

from celery import Celery, signals
from celery.beat import EmbeddedService
from celery.worker import WorkController
from celery.worker import state as worker_state

logger = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


class _ThreadWorkController(WorkController):
    """A WorkController that tells us (and worker_ready's receivers) when its consumer is ready."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer: Any) -> None:
        # As ``celery worker`` does, so its start-up hooks run here too (a LIVE process starts halted).
        signals.worker_ready.send(sender=consumer)
        self.ready.set()


class EmbeddedWorker:
    name = "worker"

    def __init__(self, app: Celery, *, ready_timeout: float = 30) -> None:
        self.app = app
        self.ready_timeout = ready_timeout
        self._thread: threading.Thread | None = None
        self._controller: _ThreadWorkController | None = None

    def start(self) -> None:
        worker_state.should_stop = worker_state.should_terminate = None
        self._controller = _ThreadWorkController(
            app=self.app,
            hostname=f"embedded@{socket.gethostname()}",
            pool="solo",
            concurrency=1,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        self._thread = threading.Thread(target=self._controller.start, name="celery-worker", daemon=True)
        self._thread.start()
        if not self._controller.ready.wait(self.ready_timeout):
            raise RuntimeError(f"The embedded Celery worker did not start within {self.ready_timeout:.0f}s")
        logger.info("Embedded Celery worker ready (broker %s)", self.app.connection_for_read().transport_cls)

    def stop(self, timeout: float) -> None:
        if self._thread is None:
            return
        # Warm shutdown: the current task finishes; the consumer loop checks this flag.
        worker_state.should_stop = 0  # type: ignore[assignment]  # celery-types says None; Celery sets exit codes
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("Worker still busy after %.0fs; terminating", timeout)
            worker_state.should_terminate = 0  # type: ignore[assignment]
            self._thread.join(timeout)
        if not self._thread.is_alive():
            # The flags are the process's: left set, the next worker it starts (a test's, say) stops at once.
            worker_state.should_stop = worker_state.should_terminate = None
        logger.info("Embedded Celery worker stopped")


class EmbeddedBeat:
    name = "beat"

    def __init__(self, app: Celery, scheduler: str) -> None:
        self.app = app
        self.scheduler = scheduler
        self._service: Any = None

    def start(self) -> None:
        # thread=True: the default would fork a process, which cannot reach an in-memory broker.
        self._service = EmbeddedService(self.app, thread=True, scheduler_cls=self.scheduler)
        self._service.start()
        logger.info("Embedded beat started (%s)", self.scheduler)

    def stop(self, timeout: float) -> None:
        if self._service is None:
            return
        stopper = threading.Thread(target=self._service.stop, name="beat-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)
        logger.info("Embedded beat stopped")


class _Shutdown(Exception):
    """Raised from our SIGTERM handler so the main thread unwinds through ``finally``."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise _Shutdown(signal.Signals(signum).name)


def run_embedded(*, services: list[Service], host: str, port: int, stop_timeout: float = 15) -> None:
    """Start background services, serve HTTP/WebSocket until interrupted, then stop everything."""
    import uvicorn

    # uvicorn restores these after its graceful shutdown and re-raises the signal it
    # caught; SIGTERM's default would kill the process before the services stop.
    previous_term = signal.signal(signal.SIGTERM, _raise_shutdown)
    started: list[Service] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        config = uvicorn.Config(
            "kalshiweb.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            log_config=None,  # keep Django's logging (JSON, redaction)
            access_log=False,
            ws="websockets-sansio",
        )
        logger.info("Serving on http://%s:%d/ (Ctrl-C to stop)", host, port)
        uvicorn.Server(config).run()
    except (KeyboardInterrupt, _Shutdown):
        pass
    finally:
        logger.info("Shutting down: %s", ", ".join(s.name for s in reversed(started)) or "nothing started")
        for service in reversed(started):
            try:
                service.stop(stop_timeout)
            except Exception:
                logger.exception("Error stopping %s", service.name)
        signal.signal(signal.SIGTERM, previous_term)
