""" "Issue to all eligible" at any cohort size.

Rendering and signing a certificate takes 5 to 40 ms, so a request issues at most
``CERTIFICATES_INLINE_MAX`` certificates itself. Above that, ``issue_all`` records a
``CertificateRun`` and the worker (``flask worker``, or the thread of ``make run``) issues them
``CERTIFICATES_BATCH`` at a time, one transaction per batch, with the same rules, audit events
and e-mails as in the request (``issuing.issue_all_eligible``); the cohort's certificates page
shows how many are done and, once, what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.certificates import issuing
from trainingmgr.certificates.models import CertificateRun, RunState
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.core import jobs
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db, on_postgresql

log = logging.getLogger(__name__)


def summary(issued: int, already: int, not_eligible: int, revoked: int) -> str:
    """What "issue to all eligible" did, in words."""
    if revoked:
        return _(
            "%(issued)d issued, %(already)d already had one, %(not_eligible)d not eligible, "
            "%(revoked)d left out because their certificate was revoked.",
            issued=issued,
            already=already,
            not_eligible=not_eligible,
            revoked=revoked,
        )
    return _(
        "%(issued)d issued, %(already)d already had one, %(not_eligible)d not eligible.",
        issued=issued,
        already=already,
        not_eligible=not_eligible,
    )


def unprintable_message(
    people: list[tuple[Enrolment, list[str]]], *, actor: User | None, before: bool = False
) -> str:
    """Who cannot get a certificate because of letters no certificate font has, in words
    (``before``: on the page, before issuing), with what ``actor`` can do about it (None: a
    worker's run without a requester)."""
    names = "; ".join(
        f"{enrolment.person.full_name} ({' '.join(letters)})" for enrolment, letters in people
    )
    advice = issuing.font_advice(actor=actor)
    if before:
        return _(
            "“Issue to all eligible” will leave out %(people)s: their names have letters the "
            "certificate fonts cannot print. %(advice)s",
            people=names,
            advice=advice,
        )
    return _(
        "Not issued, because their names have letters the certificate fonts cannot print: "
        "%(people)s. %(advice)s",
        people=names,
        advice=advice,
    )


def active_run(cohort_id: int) -> CertificateRun | None:
    """The cohort's run the worker has not finished, if any."""
    return db.session.scalars(
        sa.select(CertificateRun)
        .where(
            CertificateRun.cohort_id == cohort_id,
            CertificateRun.state.in_((RunState.QUEUED, RunState.RUNNING)),
        )
        .order_by(CertificateRun.id)
        .limit(1)
    ).first()


def issue_all(
    cohort: Cohort, *, actor: User, confirm_before_end: bool = False
) -> issuing.IssueResult | CertificateRun:
    """Issue to every eligible participant: at once (an ``IssueResult``) up to
    ``CERTIFICATES_INLINE_MAX`` people, else a queued ``CertificateRun`` for the worker. The
    checks (the cohort's end, a run already going) are made here either way. Does not
    commit."""
    if active_run(cohort.id) is not None:
        raise DomainError(
            _(
                "Certificates are already being issued to this cohort: wait until that is "
                "finished (this page shows how far it is)."
            )
        )
    outcome = issuing.issue_all_eligible(
        cohort,
        actor=actor,
        confirm_before_end=confirm_before_end,
        defer_above=current_app.config["CERTIFICATES_INLINE_MAX"],
    )
    if not outcome.waiting:
        return outcome
    run = CertificateRun(
        cohort_id=cohort.id,
        requested_by_id=getattr(actor, "id", None),
        confirm_before_end=confirm_before_end,
        total=outcome.waiting,
    )
    db.session.add(run)
    db.session.flush()
    return run


@dataclass(frozen=True)
class Finished:
    """A finished run's report for its requester: what happened, and how it went."""

    messages: list[tuple[str, str]]  # (message, flash category)


def report(cohort_id: int, *, actor: User) -> Finished | None:
    """The summary of ``actor``'s latest finished run of this cohort, the first time they
    look (then marked as reported; the caller commits)."""
    run = db.session.scalars(
        sa.select(CertificateRun)
        .where(
            CertificateRun.cohort_id == cohort_id,
            CertificateRun.requested_by_id == actor.id,
            CertificateRun.state.in_((RunState.DONE, RunState.FAILED)),
            CertificateRun.reported_at.is_(None),
        )
        .order_by(CertificateRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    run.reported_at = utcnow()
    if run.state == RunState.FAILED:
        return Finished([(run.message or "", "danger")])
    messages = [
        (
            summary(run.issued, run.already, run.not_eligible, run.revoked),
            "success" if run.issued else "info",
        )
    ]
    if run.unprintable:
        messages.append((run.unprintable, "warning"))
    return Finished(messages)


# --------------------------------------------------------------------------- the worker


def _claim() -> CertificateRun | None:
    """The oldest unfinished run, locked for this batch (PostgreSQL: skipped by other
    workers; SQLite has one writer at a time)."""
    stmt = (
        sa.select(CertificateRun)
        .where(CertificateRun.state.in_((RunState.QUEUED, RunState.RUNNING)))
        .order_by(CertificateRun.id)
        .limit(1)
    )
    if on_postgresql():
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.scalars(stmt).first()


def _finish(run: CertificateRun, state: RunState, message: str | None = None) -> None:
    run.state = state
    run.message = message
    run.finished_at = utcnow()


def _batch(run: CertificateRun, cohort: Cohort, *, actor: User | None) -> int:
    """Issue the run's next batch (its own transaction, committed by the caller); ``actor``
    is the run's requester (None: the run has none)."""
    issued_before = run.issued
    outcome = issuing.issue_all_eligible(
        cohort,
        actor=actor,
        confirm_before_end=run.confirm_before_end,
        limit=current_app.config["CERTIFICATES_BATCH"],
    )
    run.state = RunState.RUNNING
    run.progress_at = utcnow()
    run.issued = issued_before + len(outcome.issued)
    # Those this run issued in earlier batches are "already" now: not counted twice.
    run.already = max(0, len(outcome.already) - issued_before)
    run.not_eligible = len(outcome.not_eligible)
    run.revoked = len(outcome.revoked)
    run.unprintable = (
        unprintable_message(outcome.unprintable, actor=actor) if outcome.unprintable else None
    )
    if not outcome.waiting:
        _finish(run, RunState.DONE)
    return len(outcome.issued)


@jobs.register("certificates.issue_runs")
def work() -> int:
    """Issue one batch of the oldest unfinished run; returns how many were issued (1 when a
    run only finished or failed, 0 when none is waiting)."""
    run = _claim()
    if run is None:
        db.session.rollback()
        return 0
    actor = db.session.get(User, run.requested_by_id) if run.requested_by_id else None
    cohort = db.session.get(Cohort, run.cohort_id)
    locale = (actor.locale if actor else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
    run_id, issued = run.id, run.issued  # as committed by the batches before
    with force_locale(locale or "en"):  # the summary, in the requester's language
        try:
            assert cohort is not None  # the run is deleted with its cohort
            done = _batch(run, cohort, actor=actor)
            db.session.commit()
            return done or 1
        except DomainError as exc:  # e.g. the cohort was archived meanwhile
            message = exc.message
        except Exception:  # a bug: the page says so instead of waiting for ever
            log.exception("certificate run %s failed", run.id)
            message = _("Issuing stopped because of an unexpected error. Try again.")
        db.session.rollback()
        run = db.session.get(CertificateRun, run_id)
        assert run is not None
        _finish(
            run,
            RunState.FAILED,
            message
            + " "
            + ngettext(
                "%(num)d certificate was issued before it stopped.",
                "%(num)d certificates were issued before it stopped.",
                issued,
            ),
        )
        db.session.commit()
        return 1
