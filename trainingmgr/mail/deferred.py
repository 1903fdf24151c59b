"""Messages the worker writes: a bulk change (an import enrolling thousands of people) queues
one outbox row per message with what to write it from (``render_args``) and no message yet.
The worker writes them (``render_pending``, called by ``delivery.deliver_due``) just before
sending, after the change was committed: the same message as one rendered at once, without
the request spending seconds on templates and MIME.

A kind of message registers its renderer in ``RENDERERS`` (``notify`` does for
``enrolment_confirmation``, ``waitlist_place`` and ``certificate_issued``): it gets the rows
of one batch and calls ``written`` (``recipients.write_deferred``) or ``give_up`` for each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from trainingmgr.extensions import db, on_postgresql
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.mail.services import Rendered, one_line

log = logging.getLogger(__name__)

RENDERERS: dict[str, Callable[[Sequence[OutboxMessage]], None]] = {}


def row(
    kind: str,
    recipient: str,
    render_args: dict[str, Any],
    *,
    user_id: int | None = None,
    programme_id: int | None = None,
    cohort_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row to be written by the worker (for ``queue``)."""
    return {
        "kind": kind,
        "recipient": recipient[:254],
        "subject": "",
        "message": None,
        "render_args": render_args,
        "user_id": user_id,
        "programme_id": programme_id,
        "cohort_id": cohort_id,
    }


def queue(rows: Sequence[dict[str, Any]]) -> None:
    """Add the rows to the outbox in one statement (the caller commits)."""
    if rows:
        db.session.execute(sa.insert(OutboxMessage.__table__), list(rows))


def written(message: OutboxMessage, rendered: Rendered, data: bytes) -> None:
    message.subject = one_line(rendered.subject)[:300]
    message.message = data


def give_up(message: OutboxMessage, reason: str) -> None:
    """A message that cannot be written (what it was about is gone): failed, with the reason."""
    message.status = OutboxStatus.FAILED
    message.last_error = f"not written: {reason}"[:2000]


def render_pending(limit: int = 200) -> int:
    """Write up to ``limit`` of the messages waiting for the worker, and commit.

    On PostgreSQL the rows are locked (SKIP LOCKED), so two workers never write the same one.
    Returns how many rows were handled.
    """
    import trainingmgr.mail.notify  # noqa: F401  (registers its renderers)

    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.message.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if on_postgresql():
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(db.session.scalars(stmt))
    if not rows:
        db.session.rollback()
        return 0
    by_kind: dict[str, list[OutboxMessage]] = {}
    for message in rows:
        by_kind.setdefault(message.kind, []).append(message)
    for kind, group in by_kind.items():
        renderer = RENDERERS.get(kind)
        try:
            if renderer is None:
                raise LookupError(f"no renderer for {kind!r} messages")
            renderer(group)
        except Exception as exc:  # a bug must not block the queue: those rows fail, visibly
            log.exception("%s e-mails not written", kind)
            for message in group:
                if message.message is None:
                    give_up(message, f"{exc.__class__.__name__}: {exc}")
    db.session.commit()
    return len(rows)
