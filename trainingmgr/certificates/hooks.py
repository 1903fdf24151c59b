"""What the certificates domain registers: with core's scope check (a certificate belongs to
its cohort's programme), and its part of a merge of two people (``people.signals``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.hooks import cohort_outside
from trainingmgr.core import scope
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import EnrolmentConflict, MergePlan


@scope.scoped_argument("certificate_id")
def certificate_outside(certificate_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Certificate.id == certificate_id, cohort_outside(Certificate.cohort_id, ids)
    )


# --------------------------------------------------------------------------- merging people

_BULK = {"synchronize_session": False}


def _valid_certificates(enrolment_id: int) -> list[Certificate]:
    """The enrolment's valid certificates, the latest issued first."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(
                Certificate.enrolment_id == enrolment_id,
                Certificate.status == CertificateStatus.VALID,
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def _superseding(conflict: EnrolmentConflict) -> tuple[Certificate | None, list[Certificate]]:
    """The kept enrolment's valid certificate and the dropped one's valid certificates that
    it supersedes (a person holds one valid certificate per cohort)."""
    kept = _valid_certificates(conflict.kept.id)
    if not kept:
        return None, []
    return kept[0], _valid_certificates(conflict.dropped.id)


@signals.enrolment_rows_merge_planning.connect
def plan_certificate_enrolments(plan: MergePlan) -> None:
    """Both records certified in one cohort: the dropped enrolment's valid certificates
    will be superseded by the kept enrolment's."""
    for conflict in plan.conflicts:
        stays, superseded = _superseding(conflict)
        if stays is not None:
            conflict.certificates_superseded = [(c.serial, stays.serial) for c in superseded]


@signals.enrolment_rows_merging.connect
def merge_certificate_enrolments(plan: MergePlan) -> None:
    """A certificate of an enrolment dropped by a merge belongs to the kept enrolment; if
    both enrolments had a valid certificate, the dropped one's is superseded by the kept
    one's (audited in the cohort's programme)."""
    for conflict in plan.conflicts:
        stays, superseded = _superseding(conflict)
        for certificate in superseded if stays is not None else []:
            certificate.status = CertificateStatus.SUPERSEDED
            certificate.superseded_by_id = stays.id
            audit.record(
                "certificate.supersede",
                actor=plan.actor,
                obj=certificate,
                programme_id=conflict.cohort.programme_id,
                changes={
                    "status": ["valid", "superseded"],
                    "superseded_by": stays.serial,
                    "duplicate_id": plan.duplicate.id,
                },
                summary=f"{certificate.serial} -> {stays.serial}",
            )
        db.session.flush()
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
