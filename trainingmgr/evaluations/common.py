"""Evaluations: what the other modules share: who may answer, the limits on questions and
answers, loading a cohort's evaluations and their answer counts, the lock once answered, and
the audit record."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort, EnrolmentStatus
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.evaluations.models import (
    Evaluation,
    EvaluationKind,
    EvaluationSubmission,
    Phase,
    Question,
)
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User

# Who may answer: people on the cohort's roster, and those who have completed it.
MAY_ANSWER = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
MAX_QUESTIONS = 60
MAX_OPTIONS = 10
QUESTION_MAX_CHARS = 500
OPTION_MAX_CHARS = 200
ANSWER_MAX_CHARS = 4000


def kind_of(phase: Phase) -> EvaluationKind:
    return EvaluationKind.SURVEY if phase == Phase.SURVEY else EvaluationKind.TEST


def _name(kind: EvaluationKind) -> str:
    return _("the end-of-course survey") if kind == EvaluationKind.SURVEY else _("the test")


# --------------------------------------------------------------------------- loading


def cohort_evaluations(cohort_id: int) -> dict[EvaluationKind, Evaluation]:
    """The cohort's survey and test (those it has), with their questions (two queries)."""
    rows = db.session.scalars(
        sa.select(Evaluation)
        .where(Evaluation.cohort_id == cohort_id)
        .options(selectinload(Evaluation.questions))
    )
    return {e.kind: e for e in rows}


def get_evaluation(cohort_id: int, kind: EvaluationKind) -> Evaluation:
    evaluation = cohort_evaluations(cohort_id).get(kind)
    if evaluation is None:
        raise NotFound(_("This cohort has no such evaluation."))
    return evaluation


def get_question(question_id: int) -> Question:
    question = db.session.scalar(
        sa.select(Question)
        .where(Question.id == question_id)
        .options(joinedload(Question.evaluation))
    )
    if question is None:
        raise NotFound(_("There is no such question."))
    return question


def answer_counts(evaluation_ids: Collection[int]) -> dict[tuple[int, Phase], int]:
    """{(evaluation id, phase): how many have answered} (one query)."""
    if not evaluation_ids:
        return {}
    rows = db.session.execute(
        sa.select(EvaluationSubmission.evaluation_id, EvaluationSubmission.phase, sa.func.count())
        .where(EvaluationSubmission.evaluation_id.in_(sorted(evaluation_ids)))
        .group_by(EvaluationSubmission.evaluation_id, EvaluationSubmission.phase)
    )
    return {(e, Phase(p)): n for e, p, n in rows}


def is_answered(evaluation: Evaluation) -> bool:
    """Whether anyone has answered the evaluation (its questions are then fixed)."""
    return bool(
        db.session.scalar(
            sa.select(sa.exists().where(EvaluationSubmission.evaluation_id == evaluation.id))
        )
    )


def _unlocked(evaluation: Evaluation) -> None:
    if is_answered(evaluation):
        raise DomainError(
            _(
                "Answers to %(what)s have been received: its questions can no longer be changed.",
                what=_name(evaluation.kind),
            )
        )


def _record(
    action: str,
    evaluation: Evaluation,
    cohort: Cohort | None = None,
    *,
    actor: User | None,
    **changes: Any,
) -> None:
    cohort = cohort or db.session.get(Cohort, evaluation.cohort_id)
    audit.record(
        action,
        actor=actor,
        obj=evaluation,
        programme_id=cohort.programme_id if cohort else None,
        changes=changes or None,
        summary=f"{cohort.name if cohort else ''}: {evaluation.kind.value}",
    )
