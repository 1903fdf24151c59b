"""What the evaluations domain registers with core's scope check: a question belongs to its
evaluation's cohort's programme."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from trainingmgr.cohorts.hooks import cohort_outside
from trainingmgr.core import scope
from trainingmgr.evaluations.models import Evaluation, Question


@scope.scoped_argument("question_id")
def question_outside(question_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Question.id == question_id,
        Evaluation.id == Question.evaluation_id,
        cohort_outside(Evaluation.cohort_id, ids),
    )
