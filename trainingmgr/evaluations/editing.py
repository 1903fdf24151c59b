"""Evaluations: setting them up. Coordinators attach a survey (optionally copied from a
template in ``defaults``) or a knowledge test to a cohort, set when each phase may be answered
and edit the questions (fixed once someone has answered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort
from trainingmgr.cohorts.schedule import local_to_utc
from trainingmgr.core.errors import DomainError
from trainingmgr.evaluations.common import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    OPTION_MAX_CHARS,
    QUESTION_MAX_CHARS,
    _name,
    _record,
    _unlocked,
    is_answered,
)
from trainingmgr.evaluations.defaults import SURVEY_TEMPLATE
from trainingmgr.evaluations.models import (
    Evaluation,
    EvaluationKind,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User


def create_evaluation(
    cohort: Cohort, kind: EvaluationKind, template: str | None = None, *, actor: User | None
) -> Evaluation:
    """Attach a survey or a test to the cohort; a survey may start as a copy of the default
    template in ``template`` ("en", "ru", "az"), or empty (None). ``actor`` None: the system
    (the demo data of ``flask demo``)."""
    if db.session.scalar(
        sa.select(sa.exists().where(Evaluation.cohort_id == cohort.id, Evaluation.kind == kind))
    ):
        raise DomainError(_("This cohort already has %(what)s.", what=_name(kind)))
    evaluation = Evaluation(cohort_id=cohort.id, kind=kind)
    if template:
        if kind != EvaluationKind.SURVEY or template not in SURVEY_TEMPLATE:
            raise DomainError(_("Choose one of the templates offered."), "template")
        evaluation.questions = [
            Question(
                position=i,
                kind=q.kind,
                text=q.text,
                options=list(q.options),
                required=q.required,
            )
            for i, q in enumerate(SURVEY_TEMPLATE[template])
        ]
    db.session.add(evaluation)
    db.session.flush()
    _record("evaluation.create", evaluation, cohort, template=template, actor=actor)
    return evaluation


def delete_evaluation(evaluation: Evaluation, *, actor: User) -> None:
    if is_answered(evaluation):
        raise DomainError(
            _(
                "Answers to %(what)s have been received: it can no longer be removed.",
                what=_name(evaluation.kind),
            )
        )
    _record("evaluation.delete", evaluation, actor=actor)
    db.session.delete(evaluation)
    db.session.flush()


@dataclass(frozen=True)
class SettingsInput:
    """Windows as local times in the cohort's zone (naive), as a form gives them."""

    opens_at: datetime | None = None
    closes_at: datetime | None = None
    pre_opens_at: datetime | None = None
    pre_closes_at: datetime | None = None
    anonymous: bool = False
    required: bool = False


def _window(
    cohort: Cohort, opens: datetime | None, closes: datetime | None, prefix: str
) -> tuple[datetime | None, datetime | None]:
    if opens is None and closes is None:
        return None, None
    if opens is None:
        raise DomainError(_("Enter when answers open, or leave both empty."), f"{prefix}opens_at")
    if closes is None:
        raise DomainError(_("Enter when answers close, or leave both empty."), f"{prefix}closes_at")
    start = local_to_utc(opens.date(), opens.time(), cohort.timezone, f"{prefix}opens_at")
    end = local_to_utc(closes.date(), closes.time(), cohort.timezone, f"{prefix}closes_at")
    if end <= start:
        raise DomainError(
            _("The closing time must be after the opening time."), f"{prefix}closes_at"
        )
    return start, end


def update_settings(evaluation: Evaluation, data: SettingsInput, *, actor: User) -> None:
    """When each phase may be answered, anonymity and whether completion requires it."""
    cohort = db.session.get(Cohort, evaluation.cohort_id)
    assert cohort is not None
    is_survey = evaluation.kind == EvaluationKind.SURVEY
    if not is_survey and (data.anonymous or data.required):
        raise DomainError(_("Only the survey can be anonymous or required for completion."))
    opens, closes = _window(cohort, data.opens_at, data.closes_at, "")
    pre_opens, pre_closes = (None, None)
    if not is_survey:
        pre_opens, pre_closes = _window(cohort, data.pre_opens_at, data.pre_closes_at, "pre_")
        if pre_closes and opens and pre_closes > opens:
            raise DomainError(
                _("The test before the course must close before the test after it opens."),
                "pre_closes_at",
            )
    if data.anonymous != evaluation.anonymous and is_answered(evaluation):
        raise DomainError(
            _("Answers have been received: the survey's anonymity can no longer be changed.")
        )
    before = settings_of(evaluation)
    evaluation.opens_at, evaluation.closes_at = opens, closes
    evaluation.pre_opens_at, evaluation.pre_closes_at = pre_opens, pre_closes
    evaluation.anonymous = data.anonymous
    evaluation.required = data.required
    db.session.flush()
    changes = audit.changed_fields(before, settings_of(evaluation))
    if changes:
        _record("evaluation.update", evaluation, cohort, **changes, actor=actor)


# The settings of an evaluation that its audit events show.
_SETTINGS = ("opens_at", "closes_at", "pre_opens_at", "pre_closes_at", "anonymous", "required")


def settings_of(evaluation: Evaluation) -> dict[str, Any]:
    return {name: getattr(evaluation, name) for name in _SETTINGS}


@dataclass(frozen=True)
class QuestionInput:
    kind: QuestionKind
    text: str
    options: list[str] = field(default_factory=list)
    correct: int | None = None  # 1-based, as people count the options
    required: bool = True


def _clean_question(evaluation: Evaluation, data: QuestionInput) -> dict[str, Any]:
    text = " ".join((data.text or "").split())
    if not text:
        raise DomainError(_("Write the question."), "text")
    if len(text) > QUESTION_MAX_CHARS:
        raise DomainError(
            _("Keep the question under %(n)s characters.", n=QUESTION_MAX_CHARS), "text"
        )
    kind = QuestionKind(data.kind)
    is_test = evaluation.kind == EvaluationKind.TEST
    if is_test and kind != QuestionKind.CHOICE:
        raise DomainError(_("A test has multiple-choice questions only."), "kind")
    options: list[str] = []
    correct = None
    if kind == QuestionKind.CHOICE:
        options = [" ".join(o.split()) for o in data.options]
        options = [o for o in options if o]
        if len(options) < 2:
            raise DomainError(_("Give at least two options, one per line."), "options")
        if len(options) > MAX_OPTIONS:
            raise DomainError(_("Give at most %(n)s options.", n=MAX_OPTIONS), "options")
        if any(len(o) > OPTION_MAX_CHARS for o in options):
            raise DomainError(
                _("Keep each option under %(n)s characters.", n=OPTION_MAX_CHARS), "options"
            )
        if len({o.casefold() for o in options}) != len(options):
            raise DomainError(_("Two options are the same."), "options")
        if is_test:
            if data.correct is None or not 1 <= data.correct <= len(options):
                raise DomainError(
                    _("Give the number of the correct option (1 to %(n)s).", n=len(options)),
                    "correct",
                )
            correct = data.correct - 1
    return {
        "kind": kind,
        "text": text,
        "options": options,
        "correct": correct,
        "required": True if is_test else bool(data.required),
    }


def add_question(evaluation: Evaluation, data: QuestionInput, *, actor: User | None) -> Question:
    """Add a question at the end (``actor`` None: the system, the demo data of ``flask demo``)."""
    _unlocked(evaluation)
    if len(evaluation.questions) >= MAX_QUESTIONS:
        raise DomainError(_("An evaluation has at most %(n)s questions.", n=MAX_QUESTIONS))
    values = _clean_question(evaluation, data)
    position = max((q.position for q in evaluation.questions), default=-1) + 1
    question = Question(evaluation=evaluation, position=position, **values)
    db.session.add(question)
    db.session.flush()
    _record("evaluation.questions", evaluation, added=values["text"], actor=actor)
    return question


def update_question(question: Question, data: QuestionInput, *, actor: User) -> None:
    evaluation = question.evaluation
    _unlocked(evaluation)
    values = _clean_question(evaluation, data)
    before = question.text
    for name, value in values.items():
        setattr(question, name, value)
    db.session.flush()
    _record("evaluation.questions", evaluation, changed=[before, values["text"]], actor=actor)


def move_question(question: Question, step: int, *, actor: User) -> None:
    """Move the question one place up (``step`` -1) or down (+1)."""
    evaluation = question.evaluation
    _unlocked(evaluation)
    ordered = sorted(evaluation.questions, key=lambda q: (q.position, q.id))
    index = ordered.index(question)
    target = index + step
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, q in enumerate(ordered):
        q.position = position
    db.session.flush()
    _record("evaluation.questions", evaluation, moved=question.text, actor=actor)


def delete_question(question: Question, *, actor: User) -> None:
    evaluation = question.evaluation
    _unlocked(evaluation)
    text = question.text
    evaluation.questions.remove(question)
    db.session.flush()
    _record("evaluation.questions", evaluation, removed=text, actor=actor)
