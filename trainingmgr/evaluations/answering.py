"""Evaluations: answering them. Which phases a participant is invited to, the sheet they may
answer now (or why not) and recording their answers, once; the test's score."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.core import timefmt
from trainingmgr.core.errors import DomainError, Forbidden, NotFound
from trainingmgr.core.types import utcnow
from trainingmgr.evaluations.common import (
    ANSWER_MAX_CHARS,
    MAY_ANSWER,
    cohort_evaluations,
    kind_of,
)
from trainingmgr.evaluations.models import (
    RATING_SCALE,
    Answer,
    Evaluation,
    EvaluationResponse,
    EvaluationSubmission,
    Phase,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db


@dataclass(frozen=True)
class Invitation:
    """One phase of an evaluation as its participant sees it on their home page."""

    evaluation: Evaluation
    phase: Phase
    answered: bool
    now: datetime

    @property
    def is_open(self) -> bool:
        return not self.answered and self.evaluation.is_open(self.phase, self.now)

    @property
    def opens_at(self) -> datetime | None:
        return self.evaluation.window(self.phase)[0]

    @property
    def closes_at(self) -> datetime | None:
        return self.evaluation.window(self.phase)[1]

    @property
    def upcoming(self) -> bool:
        opens = self.opens_at
        return not self.answered and opens is not None and self.now < opens


def participant_invitations(
    person_id: int, now: datetime | None = None
) -> dict[int, list[Invitation]]:
    """{cohort id: the phases the person may answer there, answered or not} for the cohorts
    where they may answer, leaving out evaluations without questions or without a window.
    Three queries whatever the number of cohorts."""
    now = now or utcnow()
    enrolments = dict(
        db.session.execute(
            sa.select(Enrolment.cohort_id, Enrolment.id).where(
                Enrolment.person_id == person_id, Enrolment.status.in_(MAY_ANSWER)
            )
        ).all()
    )
    if not enrolments:
        return {}
    evaluations = list(
        db.session.scalars(
            sa.select(Evaluation)
            .where(
                Evaluation.cohort_id.in_(sorted(enrolments)),
                Evaluation.questions.any(),
            )
            .order_by(Evaluation.kind.desc())  # the test before the survey
        )
    )
    done = set(
        db.session.execute(
            sa.select(EvaluationSubmission.evaluation_id, EvaluationSubmission.phase).where(
                EvaluationSubmission.enrolment_id.in_(sorted(enrolments.values()))
            )
        ).all()
    )
    result: dict[int, list[Invitation]] = defaultdict(list)
    for evaluation in evaluations:
        for phase in evaluation.phases:
            if evaluation.window(phase)[0] is None:
                continue
            answered = (evaluation.id, phase) in done
            result[evaluation.cohort_id].append(Invitation(evaluation, phase, answered, now))
    return dict(result)


@dataclass(frozen=True)
class AnswerSheet:
    """What a participant answers: the evaluation, the phase, their enrolment."""

    cohort: Cohort
    evaluation: Evaluation
    phase: Phase
    enrolment: Enrolment


def answer_sheet(
    person_id: int | None, cohort_id: int, phase: Phase, now: datetime | None = None
) -> AnswerSheet:
    """The evaluation ``person_id`` may answer now in the cohort, or why not (``NotFound``
    when the person is not in the cohort: its existence is not revealed)."""
    now = now or utcnow()
    enrolment = None
    if person_id is not None:
        enrolment = db.session.scalar(
            sa.select(Enrolment)
            .where(Enrolment.cohort_id == cohort_id, Enrolment.person_id == person_id)
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
        )
    if enrolment is None or enrolment.status not in MAY_ANSWER:
        raise NotFound(_("There is nothing for you to answer here."))
    kind = kind_of(phase)
    evaluation = cohort_evaluations(cohort_id).get(kind)
    if evaluation is None or not evaluation.questions:
        raise NotFound(_("There is nothing for you to answer here."))
    if db.session.get(EvaluationSubmission, (evaluation.id, phase, enrolment.id)) is not None:
        raise Forbidden(_("You have already answered. Thank you!"))
    opens, closes = evaluation.window(phase)
    tz = enrolment.cohort.timezone
    if opens is None or closes is None:
        raise Forbidden(_("This is not open yet."))
    if now < opens:
        raise Forbidden(_("This opens on %(when)s.", when=timefmt.fmt_datetime(opens, tz)))
    if now >= closes:
        raise Forbidden(_("This closed on %(when)s.", when=timefmt.fmt_datetime(closes, tz)))
    return AnswerSheet(enrolment.cohort, evaluation, phase, enrolment)


def score_of(evaluation: Evaluation, answers: list[Answer]) -> int:
    """How many of the test's questions the answers get right."""
    correct = {q.id: q.correct for q in evaluation.questions if q.correct is not None}
    return sum(
        1 for a in answers if a.choice is not None and correct.get(a.question_id) == a.choice
    )


class AnswerProblems(DomainError):
    """Some answers are missing or invalid: ``problems`` maps each field to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(_("Some questions still need an answer: see below."))
        self.problems = problems


def _field(question: Question) -> str:
    return f"q{question.id}"


def _parse_answer(question: Question, raw: Any) -> Answer | None:
    """The answer to one question from the form's value, or None when left empty."""
    name = _field(question)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if question.required:
            raise DomainError(_("Answer this question."), name)
        return None
    if question.kind == QuestionKind.TEXT:
        # Browsers send a text box's line breaks as CR LF but count them as one character
        # for its maxlength: counted and kept as LF, an answer the box allowed is accepted.
        text = str(raw).replace("\r\n", "\n").strip()
        if len(text) > ANSWER_MAX_CHARS:
            raise DomainError(
                _("Keep your answer under %(n)s characters.", n=ANSWER_MAX_CHARS), name
            )
        return Answer(question_id=question.id, text=text)
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise DomainError(_("Choose one of the answers offered."), name) from None
    if question.kind == QuestionKind.RATING:
        if number not in RATING_SCALE:
            raise DomainError(_("Choose one of the answers offered."), name)
        return Answer(question_id=question.id, rating=number)
    if not 0 <= number < len(question.options):
        raise DomainError(_("Choose one of the answers offered."), name)
    return Answer(question_id=question.id, choice=number)


def submit(sheet: AnswerSheet, values: Mapping[str, Any], now: datetime | None = None) -> None:
    """Record the participant's answers (``values``: form field name -> value), once.

    The submission (who has answered) and the response (what was answered) are separate
    rows; an anonymous survey's response has neither the enrolment nor the time.
    """
    evaluation = sheet.evaluation
    answers: list[Answer] = []
    problems: dict[str, str] = {}
    for question in evaluation.questions:
        try:
            answer = _parse_answer(question, values.get(_field(question)))
        except DomainError as exc:
            problems[exc.field or _field(question)] = exc.message
            continue
        if answer is not None:
            answers.append(answer)
    if problems:
        raise AnswerProblems(problems)
    anonymous = evaluation.anonymous and sheet.phase == Phase.SURVEY
    try:
        with db.session.begin_nested():
            db.session.add(
                EvaluationSubmission(
                    evaluation_id=evaluation.id, phase=sheet.phase, enrolment_id=sheet.enrolment.id
                )
            )
            db.session.flush()
    except IntegrityError:
        raise Forbidden(_("You have already answered. Thank you!")) from None
    response = EvaluationResponse(
        evaluation_id=evaluation.id,
        phase=sheet.phase,
        enrolment_id=None if anonymous else sheet.enrolment.id,
        submitted_at=None if anonymous else (now or utcnow()),
        score=score_of(evaluation, answers) if sheet.phase != Phase.SURVEY else None,
        answers=answers,
    )
    db.session.add(response)
    db.session.flush()
