"""Background jobs run by the worker (``flask --app app worker``, or the in-process thread of
``make run``) between two batches of e-mail.

A feature registers a job with ``register``: a function, called in an application context,
that does a bounded amount of work, commits it and returns how much it did (0: nothing was
waiting). ``imports.jobs`` reads large uploaded spreadsheets this way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from trainingmgr.extensions import db

log = logging.getLogger(__name__)

Job = Callable[[], int]
JOBS: dict[str, Job] = {}


def register(name: str) -> Callable[[Job], Job]:
    """Run the decorated function at every turn of the worker."""

    def decorate(job: Job) -> Job:
        JOBS[name] = job
        return job

    return decorate


def run_all() -> int:
    """Run every job once; returns the work done. A failing job is logged and rolled back:
    it never stops the others, nor the delivery of e-mail."""
    done = 0
    for name, job in list(JOBS.items()):
        try:
            done += job()
        except Exception:
            log.exception("background job %s failed", name)
            db.session.rollback()
    return done
