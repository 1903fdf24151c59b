"""The delivery worker: ``flask --app app worker`` in production, a thread under ``make run``.

The loop runs the background jobs (``core.jobs``: large uploads read, for one), sends what is
due (``delivery.deliver_due``), then waits ``WORKER_POLL_SECONDS``
(sooner when a batch was full). It stops between two messages when asked (SIGTERM or
SIGINT for the command, ``stop()`` for the thread), never in the middle of one.

The in-process thread (``MAIL_DELIVERY_IN_PROCESS=1``, set by ``make run``) starts with the
first request the application serves, so command-line tools (``flask db upgrade``,
``flask demo``), the reloader's watcher process and the tests never start one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask

from trainingmgr.core import jobs
from trainingmgr.extensions import db
from trainingmgr.mail.delivery import DeliveryCounts, deliver_due

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0
BATCH = 50
EXTENSION_KEY = "trainingmgr.mail_worker"


def deliver_once(app: Flask, should_stop: Callable[[], bool] | None = None) -> DeliveryCounts:
    """The background jobs, then one batch of e-mail, in a fresh application context (its own
    database session)."""
    with app.app_context():
        try:
            done = jobs.run_all()
            counts = deliver_due(BATCH, should_stop=should_stop)
            counts.jobs = done
            return counts
        finally:
            db.session.remove()


def run(
    app: Flask,
    stop: threading.Event,
    *,
    once: bool = False,
    poll: float | None = None,
    on_batch: Callable[[DeliveryCounts], None] | None = None,
) -> DeliveryCounts:
    """Deliver until ``stop`` is set (or, with ``once``, until nothing is due); returns totals.

    An error (database unreachable, bad configuration) is logged and the loop goes on after
    the usual wait, except with ``once``, where it is raised.
    """
    wait = float(
        app.config.get("WORKER_POLL_SECONDS", DEFAULT_POLL_SECONDS) if poll is None else poll
    )
    total = DeliveryCounts()
    while not stop.is_set():
        try:
            counts = deliver_once(app, stop.is_set)
        except Exception:
            if once:
                raise
            log.exception("e-mail delivery failed; trying again in %s s", wait)
            stop.wait(wait)
            continue
        total += counts
        if counts.attempted and on_batch is not None:
            on_batch(counts)
        if counts.attempted >= BATCH or counts.jobs:
            continue  # more may be waiting (mail, or a job's next batch)
        if once:
            break
        stop.wait(wait)
    return total


class InProcessWorker:
    """A daemon thread running ``run`` for the web process (development)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="trainingmgr-mail-worker", daemon=True
        )

    def _run(self) -> None:
        run(self.app, self.stopping)

    def start(self) -> InProcessWorker:
        self.thread.start()
        log.info("in-process e-mail delivery started")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)


_start_lock = threading.Lock()


def start_in_process_worker(app: Flask) -> InProcessWorker:
    """Start the delivery thread of ``app`` (once; later calls return the running one)."""
    with _start_lock:
        worker = app.extensions.get(EXTENSION_KEY)
        if worker is None or not worker.thread.is_alive():
            worker = InProcessWorker(app).start()
            app.extensions[EXTENSION_KEY] = worker
        return worker


def maybe_start(app: Flask) -> None:
    """With ``MAIL_DELIVERY_IN_PROCESS``, start the delivery thread at the first request.

    Never in tests (``TESTING``): a test that wants the thread calls
    ``start_in_process_worker`` itself.
    """
    if not app.config.get("MAIL_DELIVERY_IN_PROCESS") or app.testing:
        return

    @app.before_request
    def _start_mail_worker() -> None:
        if EXTENSION_KEY not in app.extensions:
            start_in_process_worker(app)
