"""The completion rule's part that evaluations own: a required end-of-course survey.

Kept apart from ``services`` so the eligibility rule (``certificates.eligibility``) and the
participant's home page can use it without importing the rest of the domain.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from trainingmgr.cohorts.models import Enrolment
from trainingmgr.evaluations.models import (
    Evaluation,
    EvaluationKind,
    EvaluationSubmission,
    Phase,
)
from trainingmgr.extensions import db


def required_survey_answered(enrolment_ids: Collection[int]) -> dict[int, bool]:
    """For each of the enrolments whose cohort requires its survey to be answered: whether it
    is answered. Enrolments of cohorts without that requirement are left out. One query."""
    if not enrolment_ids:
        return {}
    answered = (
        sa.select(EvaluationSubmission.enrolment_id)
        .where(
            EvaluationSubmission.evaluation_id == Evaluation.id,
            EvaluationSubmission.phase == Phase.SURVEY,
            EvaluationSubmission.enrolment_id == Enrolment.id,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(Enrolment.id, answered)
        .join(Evaluation, Evaluation.cohort_id == Enrolment.cohort_id)
        .where(
            Enrolment.id.in_(sorted(set(enrolment_ids))),
            Evaluation.kind == EvaluationKind.SURVEY,
            Evaluation.required.is_(True),
        )
    )
    return {enrolment_id: bool(done) for enrolment_id, done in rows}


def survey_required_clause(cohort_id: Any) -> sa.ColumnElement[bool]:
    """True when the cohort (an id or a column) requires its survey to be answered."""
    return sa.exists().where(
        Evaluation.cohort_id == cohort_id,
        Evaluation.kind == EvaluationKind.SURVEY,
        Evaluation.required.is_(True),
    )


def survey_required(cohort_id: int) -> bool:
    """Whether the cohort's completion rule requires its survey to be answered (one query)."""
    return bool(db.session.scalar(sa.select(survey_required_clause(cohort_id))))
