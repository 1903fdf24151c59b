"""What the certificates domain registers: with core's scope check (a certificate belongs to
its cohort's programme), and its part of a merge of two people (``people.signals``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.hooks import cohort_outside
from trainingmgr.core import scope
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan


@scope.scoped_argument("certificate_id")
def certificate_outside(certificate_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Certificate.id == certificate_id, cohort_outside(Certificate.cohort_id, ids)
    )


# --------------------------------------------------------------------------- merging people

_BULK = {"synchronize_session": False}


@signals.enrolment_rows_merging.connect
def merge_certificate_enrolments(plan: MergePlan) -> None:
    """A certificate of an enrolment dropped by a merge belongs to the kept enrolment."""
    for conflict in plan.conflicts:
        db.session.execute(
            sa.update(Certificate)
            .where(Certificate.enrolment_id == conflict.dropped.id)
            .values(enrolment_id=conflict.kept.id),
            execution_options=_BULK,
        )


@signals.person_merge_planning.connect
def plan_certificates(plan: MergePlan) -> None:
    """The duplicate's certificates (they move)."""
    plan.certificates = list(
        db.session.scalars(
            sa.select(Certificate.id)
            .where(Certificate.person_id == plan.duplicate.id)
            .order_by(Certificate.id)
        )
    )


@signals.person_merging.connect
def merge_certificates(plan: MergePlan) -> None:
    """The duplicate's certificates are the kept person's."""
    if plan.certificates:
        db.session.execute(
            sa.update(Certificate)
            .where(Certificate.person_id == plan.duplicate.id)
            .values(person_id=plan.keep.id),
            execution_options=_BULK,
        )
