"""Evaluations: a cohort's results as spreadsheets (every survey response, each person's
test scores)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from anyascii import anyascii
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.evaluations.cohort_results import EvaluationResults
from trainingmgr.evaluations.models import (
    Answer,
    EvaluationResponse,
    Question,
)
from trainingmgr.extensions import db
from trainingmgr.imports.services import Sheet


def survey_sheet(cohort: Cohort, result: EvaluationResults) -> Sheet:
    """Every response to the survey, one row each (named surveys: who answered first);
    rows of an anonymous survey follow the random response key."""
    evaluation = result.evaluation
    questions = [r.question for r in result.questions]
    query = (
        sa.select(EvaluationResponse)
        .where(EvaluationResponse.evaluation_id == evaluation.id)
        .options(
            selectinload(EvaluationResponse.answers),
        )
        .order_by(EvaluationResponse.id)
    )
    responses = list(db.session.scalars(query))
    named = not evaluation.anonymous
    enrolments: dict[int, Enrolment] = {}
    if named:
        ids = sorted({r.enrolment_id for r in responses if r.enrolment_id is not None})
        if ids:
            enrolments = {
                e.id: e
                for e in db.session.scalars(
                    sa.select(Enrolment)
                    .where(Enrolment.id.in_(ids))
                    .options(joinedload(Enrolment.person))
                )
            }
    headers = [_("Response")]
    if named:
        headers += [_("Last name"), _("First name"), _("E-mail")]
    headers += [q.text for q in questions]
    rows = []
    for response in responses:
        by_question = {a.question_id: a for a in response.answers}
        row: list[Any] = []
        if named:
            enrolment = enrolments.get(response.enrolment_id or 0)
            person = enrolment.person if enrolment else None
            row += [
                person.last_name if person else "",
                person.first_name if person else "",
                (person.email or "") if person else "",
            ]
        for q in questions:
            answer = by_question.get(q.id)
            row.append(_cell(q, answer))
        rows.append(row)
    if named:
        rows.sort(key=lambda r: (anyascii(str(r[0])).casefold(), anyascii(str(r[1])).casefold()))
    rows = [[n, *row] for n, row in enumerate(rows, start=1)]
    return Sheet(f"{cohort.name} {_('Survey')}", [str(h) for h in headers], rows)


def _cell(question: Question, answer: Answer | None) -> Any:
    if answer is None:
        return ""
    if answer.rating is not None:
        return answer.rating
    if answer.choice is not None:
        options = question.options or []
        return options[answer.choice] if answer.choice < len(options) else ""
    return answer.text or ""


def test_sheet(cohort: Cohort, result: EvaluationResults) -> Sheet:
    """Each person's scores before and after, and the gain (post minus pre, in points)."""
    headers = [
        _("Last name"),
        _("First name"),
        _("E-mail"),
        _("Correct before"),
        _("Before (%)"),
        _("Correct after"),
        _("After (%)"),
        _("Gain (points)"),
    ]
    rows = []
    for s in result.scores:
        person = s.enrolment.person if s.enrolment else None
        rows.append(
            [
                person.last_name if person else "",
                person.first_name if person else "",
                (person.email or "") if person else "",
                s.pre.correct if s.pre else "",
                s.pre.pct if s.pre else "",
                s.post.correct if s.post else "",
                s.post.pct if s.post else "",
                s.gain if s.gain is not None else "",
            ]
        )
    return Sheet(f"{cohort.name} {_('Test')}", [str(h) for h in headers], rows)
