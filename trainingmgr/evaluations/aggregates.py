"""Evaluations: the grouped queries behind the results of a cohort and of programmes
(who was invited, answers per option, test scores and their pairs before and after)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from trainingmgr.cohorts.models import Enrolment
from trainingmgr.evaluations.common import MAY_ANSWER
from trainingmgr.evaluations.models import (
    Answer,
    EvaluationResponse,
    EvaluationSubmission,
    Phase,
    Question,
)
from trainingmgr.extensions import db


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(values: Collection[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _gain(pre: float | None, post: float | None, digits: int) -> float | None:
    """``post`` less ``pre`` (percentage points, rounded to ``digits``); None without both."""
    return None if pre is None or post is None else round(post - pre, digits)


@dataclass(frozen=True)
class Score:
    correct: int
    out_of: int

    @property
    def pct(self) -> float:
        return round(100.0 * self.correct / self.out_of, 1) if self.out_of else 0.0


def _invited(
    cohort_ids: Collection[int], evaluation_ids: Collection[int]
) -> tuple[dict[int, int], dict[tuple[int, Phase], int]]:
    """({cohort id: enrolments that may answer}, {(evaluation, phase): answers from
    enrolments that no longer may}): those who answered and then withdrew still count as
    invited, so a rate never exceeds 100%. Two queries."""
    may = dict(
        db.session.execute(
            sa.select(Enrolment.cohort_id, sa.func.count())
            .where(Enrolment.cohort_id.in_(sorted(cohort_ids)), Enrolment.status.in_(MAY_ANSWER))
            .group_by(Enrolment.cohort_id)
        ).all()
    )
    left: dict[tuple[int, Phase], int] = {}
    if evaluation_ids:
        for evaluation_id, phase, n in db.session.execute(
            sa.select(
                EvaluationSubmission.evaluation_id, EvaluationSubmission.phase, sa.func.count()
            )
            .join(Enrolment, Enrolment.id == EvaluationSubmission.enrolment_id)
            .where(
                EvaluationSubmission.evaluation_id.in_(sorted(evaluation_ids)),
                Enrolment.status.not_in(MAY_ANSWER),
            )
            .group_by(EvaluationSubmission.evaluation_id, EvaluationSubmission.phase)
        ):
            left[(evaluation_id, Phase(phase))] = n
    return may, left


def _choice_counts(
    evaluation_ids: Collection[int],
) -> dict[tuple[int, Phase], dict[tuple[int | None, int | None], int]]:
    """{(question id, phase): {(rating, choice): count}} (one grouped query)."""
    result: dict[tuple[int, Phase], dict[tuple[int | None, int | None], int]] = defaultdict(dict)
    if not evaluation_ids:
        return result
    rows = db.session.execute(
        sa.select(
            Answer.question_id,
            EvaluationResponse.phase,
            Answer.rating,
            Answer.choice,
            sa.func.count(),
        )
        .join(EvaluationResponse, EvaluationResponse.id == Answer.response_id)
        .where(
            EvaluationResponse.evaluation_id.in_(sorted(evaluation_ids)),
            Answer.text.is_(None),
        )
        .group_by(Answer.question_id, EvaluationResponse.phase, Answer.rating, Answer.choice)
    )
    for question_id, phase, rating, choice, n in rows:
        result[(question_id, Phase(phase))][(rating, choice)] = n
    return result


def _out_of(evaluation_ids: Collection[int]) -> dict[int, int]:
    """{test id: its number of questions with a correct answer} (one query)."""
    if not evaluation_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Question.evaluation_id, sa.func.count())
            .where(
                Question.evaluation_id.in_(sorted(evaluation_ids)), Question.correct.is_not(None)
            )
            .group_by(Question.evaluation_id)
        ).all()
    )


def _scores(evaluation_ids: Collection[int]) -> dict[tuple[int, int, Phase], Score]:
    """{(evaluation id, enrolment id, phase): score} of the tests' responses (two queries:
    the number of scored questions, then the scores counted at submission)."""
    if not evaluation_ids:
        return {}
    out_of = _out_of(evaluation_ids)
    rows = db.session.execute(
        sa.select(
            EvaluationResponse.evaluation_id,
            EvaluationResponse.enrolment_id,
            EvaluationResponse.phase,
            EvaluationResponse.score,
        ).where(
            EvaluationResponse.evaluation_id.in_(sorted(evaluation_ids)),
            EvaluationResponse.enrolment_id.is_not(None),
            EvaluationResponse.phase.in_([Phase.PRE, Phase.POST]),
        )
    )
    return {
        (e, enrolment, Phase(p)): Score(int(n or 0), int(out_of.get(e, 0)))
        for e, enrolment, p, n in rows
    }


@dataclass(frozen=True)
class _Pairs:
    """A test's people who took it before and after: how many, and their mean scores (%)."""

    paired: int
    mean_pre_pct: float | None
    mean_post_pct: float | None

    @property
    def mean_gain_pct(self) -> float | None:
        return _gain(self.mean_pre_pct, self.mean_post_pct, 2)


def _pairs(evaluation_ids: Collection[int]) -> dict[int, _Pairs]:
    """{test id: its paired scores}, computed in the database (two queries whatever the
    number of people). The mean gain is the mean score after minus the mean score before,
    over the same people: exactly the mean of each person's gain."""
    if not evaluation_ids:
        return {}
    out_of = _out_of(evaluation_ids)
    pre, post = aliased(EvaluationResponse), aliased(EvaluationResponse)
    rows = db.session.execute(
        sa.select(
            pre.evaluation_id,
            sa.func.count(),
            sa.func.sum(pre.score),
            sa.func.sum(post.score),
        )
        .join(
            post,
            sa.and_(
                post.evaluation_id == pre.evaluation_id,
                post.enrolment_id == pre.enrolment_id,
                post.phase == Phase.POST,
            ),
        )
        .where(
            pre.evaluation_id.in_(sorted(evaluation_ids)),
            pre.phase == Phase.PRE,
            pre.enrolment_id.is_not(None),
        )
        .group_by(pre.evaluation_id)
    )
    result = {}
    for evaluation_id, n, pre_sum, post_sum in rows:
        total = out_of.get(evaluation_id, 0)
        if not n or not total:
            continue
        result[evaluation_id] = _Pairs(
            int(n),
            round(100.0 * float(pre_sum or 0) / (n * total), 2),
            round(100.0 * float(post_sum or 0) / (n * total), 2),
        )
    return result
