"""Evaluations: the rules for setting them up, answering them and reading their results.

- Coordinators attach to a cohort an end-of-course survey (optionally copied from the default
  template in ``defaults``) and a knowledge test taken before and after the course, edit their
  questions and set when each may be answered. Once someone has answered, the questions and
  the anonymity are fixed (the answers would no longer match them).
- Participants enrolled in the cohort (status enrolled or completed) answer each phase once,
  while its window is open (``submit``).
- ``results`` gives a cohort's figures; ``programme_summary`` the same aggregated over the
  cohorts of programmes in a period (for the donor report).

Functions here never commit: views do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from anyascii import anyascii
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.cohorts.schedule import local_to_utc
from trainingmgr.core import timefmt
from trainingmgr.core.errors import DomainError, Forbidden, NotFound
from trainingmgr.core.types import utcnow
from trainingmgr.evaluations.defaults import SURVEY_TEMPLATE
from trainingmgr.evaluations.models import (
    RATING_SCALE,
    Answer,
    Evaluation,
    EvaluationKind,
    EvaluationResponse,
    EvaluationSubmission,
    Phase,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db
from trainingmgr.imports.services import Sheet
from trainingmgr.people.models import Person

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
    action: str, actor: Any, evaluation: Evaluation, cohort: Cohort | None = None, **changes: Any
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


# --------------------------------------------------------------------------- setting up


def create_evaluation(
    cohort: Cohort, kind: EvaluationKind, template: str | None = None, *, actor: User
) -> Evaluation:
    """Attach a survey or a test to the cohort; a survey may start as a copy of the default
    template in ``template`` ("en", "ru", "az"), or empty (None)."""
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
    _record("evaluation.create", actor, evaluation, cohort, template=template)
    return evaluation


def delete_evaluation(evaluation: Evaluation, *, actor: User) -> None:
    if is_answered(evaluation):
        raise DomainError(
            _(
                "Answers to %(what)s have been received: it can no longer be removed.",
                what=_name(evaluation.kind),
            )
        )
    _record("evaluation.delete", actor, evaluation)
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
        _record("evaluation.update", actor, evaluation, cohort, **changes)


def settings_of(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "opens_at": evaluation.opens_at,
        "closes_at": evaluation.closes_at,
        "pre_opens_at": evaluation.pre_opens_at,
        "pre_closes_at": evaluation.pre_closes_at,
        "anonymous": evaluation.anonymous,
        "required": evaluation.required,
    }


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


def add_question(evaluation: Evaluation, data: QuestionInput, *, actor: User) -> Question:
    _unlocked(evaluation)
    if len(evaluation.questions) >= MAX_QUESTIONS:
        raise DomainError(_("An evaluation has at most %(n)s questions.", n=MAX_QUESTIONS))
    values = _clean_question(evaluation, data)
    position = max((q.position for q in evaluation.questions), default=-1) + 1
    question = Question(evaluation=evaluation, position=position, **values)
    db.session.add(question)
    db.session.flush()
    _record("evaluation.questions", actor, evaluation, added=values["text"])
    return question


def update_question(question: Question, data: QuestionInput, *, actor: User) -> None:
    evaluation = question.evaluation
    _unlocked(evaluation)
    values = _clean_question(evaluation, data)
    before = question.text
    for name, value in values.items():
        setattr(question, name, value)
    db.session.flush()
    _record("evaluation.questions", actor, evaluation, changed=[before, values["text"]])


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
    _record("evaluation.questions", actor, evaluation, moved=question.text)


def delete_question(question: Question, *, actor: User) -> None:
    evaluation = question.evaluation
    _unlocked(evaluation)
    text = question.text
    evaluation.questions.remove(question)
    db.session.flush()
    _record("evaluation.questions", actor, evaluation, removed=text)


# --------------------------------------------------------------------------- answering


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
        text = str(raw).strip()
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


# --------------------------------------------------------------------------- results


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(values: Collection[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


@dataclass(frozen=True)
class PhaseResult:
    phase: Phase
    responses: int
    invited: int

    @property
    def rate_pct(self) -> float | None:
        return _pct(self.responses, self.invited)


@dataclass
class QuestionResult:
    question: Question
    answered: dict[Phase, int] = field(default_factory=dict)
    # Ratings 1-5 or options: how many chose each, per phase.
    counts: dict[Phase, list[int]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)

    def average(self, phase: Phase = Phase.SURVEY) -> float | None:
        counts = self.counts.get(phase)
        if self.question.kind != QuestionKind.RATING or not counts or not sum(counts):
            return None
        return round(sum(v * n for v, n in zip(RATING_SCALE, counts, strict=True)) / sum(counts), 2)

    def correct_pct(self, phase: Phase) -> float | None:
        counts = self.counts.get(phase)
        if self.question.correct is None or not counts:
            return None
        return _pct(counts[self.question.correct], self.answered.get(phase, 0))


@dataclass(frozen=True)
class Score:
    correct: int
    out_of: int

    @property
    def pct(self) -> float:
        return round(100.0 * self.correct / self.out_of, 1) if self.out_of else 0.0


@dataclass(frozen=True)
class PairedScore:
    enrolment: Enrolment | None
    pre: Score | None
    post: Score | None

    @property
    def gain(self) -> float | None:
        if self.pre is None or self.post is None:
            return None
        return round(self.post.pct - self.pre.pct, 1)


@dataclass
class EvaluationResults:
    evaluation: Evaluation
    phases: list[PhaseResult]
    questions: list[QuestionResult]
    scores: list[PairedScore] = field(default_factory=list)  # tests: one per person

    @property
    def paired(self) -> list[PairedScore]:
        return [s for s in self.scores if s.gain is not None]

    def mean_score(self, phase: Phase) -> float | None:
        chosen = [s.pre if phase == Phase.PRE else s.post for s in self.scores]
        return _mean([s.pct for s in chosen if s is not None])

    @property
    def mean_gain(self) -> float | None:
        return _mean([s.gain for s in self.paired if s.gain is not None])

    @property
    def rating_average(self) -> float | None:
        """The mean of every rating given to the survey's rating questions."""
        total = count = 0
        for q in self.questions:
            counts = q.counts.get(Phase.SURVEY)
            if q.question.kind == QuestionKind.RATING and counts:
                total += sum(v * n for v, n in zip(RATING_SCALE, counts, strict=True))
                count += sum(counts)
        return round(total / count, 2) if count else None


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
        if self.mean_pre_pct is None or self.mean_post_pct is None:
            return None
        return round(self.mean_post_pct - self.mean_pre_pct, 2)


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


def results(cohort_id: int) -> dict[EvaluationKind, EvaluationResults]:
    """The cohort's survey and test results: response rates, answers per question, the free
    text, and the test scores paired per person. Nine queries whatever the number of people
    and answers."""
    evaluations = cohort_evaluations(cohort_id)
    ids = [e.id for e in evaluations.values()]
    counts = answer_counts(ids)
    may, left = _invited([cohort_id], ids)
    choices = _choice_counts(ids)
    texts: dict[int, list[str]] = defaultdict(list)
    survey = evaluations.get(EvaluationKind.SURVEY)
    if survey is not None:
        # Ordered by the random response key: never by who answered or when.
        for question_id, text in db.session.execute(
            sa.select(Answer.question_id, Answer.text)
            .join(EvaluationResponse, EvaluationResponse.id == Answer.response_id)
            .where(EvaluationResponse.evaluation_id == survey.id, Answer.text.is_not(None))
            .order_by(Answer.response_id)
        ):
            texts[question_id].append(text)
    scores = _scores([e.id for e in evaluations.values() if e.kind == EvaluationKind.TEST])
    people: dict[int, Enrolment] = {}
    if scores:
        people = {
            e.id: e
            for e in db.session.scalars(
                sa.select(Enrolment)
                .where(Enrolment.id.in_(sorted({k[1] for k in scores})))
                .options(joinedload(Enrolment.person))
            )
        }
    out: dict[EvaluationKind, EvaluationResults] = {}
    for kind, evaluation in evaluations.items():
        phases = [
            PhaseResult(
                phase,
                counts.get((evaluation.id, phase), 0),
                may.get(cohort_id, 0) + left.get((evaluation.id, phase), 0),
            )
            for phase in evaluation.phases
        ]
        questions = []
        for q in evaluation.questions:
            result = QuestionResult(q, texts=texts.get(q.id, []))
            for phase in evaluation.phases:
                found = choices.get((q.id, phase), {})
                result.answered[phase] = sum(found.values())
                if q.kind == QuestionKind.RATING:
                    result.counts[phase] = [found.get((v, None), 0) for v in RATING_SCALE]
                elif q.kind == QuestionKind.CHOICE:
                    result.counts[phase] = [found.get((None, i), 0) for i in range(len(q.options))]
            if q.kind == QuestionKind.TEXT:
                result.answered[Phase.SURVEY] = len(result.texts)
            questions.append(result)
        paired: list[PairedScore] = []
        if kind == EvaluationKind.TEST:
            enrolment_ids = {k[1] for k in scores if k[0] == evaluation.id}
            paired = [
                PairedScore(
                    people.get(eid),
                    scores.get((evaluation.id, eid, Phase.PRE)),
                    scores.get((evaluation.id, eid, Phase.POST)),
                )
                for eid in enrolment_ids
            ]
            paired.sort(key=lambda s: _person_key(s.enrolment.person if s.enrolment else None))
        out[kind] = EvaluationResults(evaluation, phases, questions, paired)
    return out


def _person_key(person: Person | None) -> tuple[str, ...]:
    from trainingmgr.certificates.export import name_order

    return name_order(person) if person is not None else ("",)


# --------------------------------------------------------------------------- exports


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


# --------------------------------------------------------------------------- programmes


@dataclass(frozen=True)
class CohortEvaluationSummary:
    cohort_id: int
    cohort_name: str
    programme_id: int
    survey_invited: int
    survey_responses: int
    rating_average: float | None
    test_pre: int  # people who took the test before the course
    test_post: int
    paired: int  # ... and both
    mean_pre_pct: float | None
    mean_post_pct: float | None
    mean_gain_pct: float | None  # mean of (post - pre) over the paired people, in points

    @property
    def survey_rate_pct(self) -> float | None:
        return _pct(self.survey_responses, self.survey_invited)


@dataclass(frozen=True)
class RatingSummary:
    """One rating question over every cohort that asked it (the same words)."""

    text: str
    answers: int
    average: float | None


@dataclass(frozen=True)
class ProgrammeEvaluationSummary:
    cohorts: list[CohortEvaluationSummary]  # cohorts with a survey or a test
    surveys: int
    survey_invited: int
    survey_responses: int
    rating_average: float | None  # every rating given, all questions and cohorts
    ratings: list[RatingSummary]
    tests: int
    paired: int
    mean_pre_pct: float | None  # means over the paired people
    mean_post_pct: float | None
    mean_gain_pct: float | None

    @property
    def survey_rate_pct(self) -> float | None:
        return _pct(self.survey_responses, self.survey_invited)


def programme_summary(
    programme_ids: Collection[int] | None, start: date | None = None, end: date | None = None
) -> ProgrammeEvaluationSummary:
    """Evaluation figures of the programmes' cohorts that overlap the period (``start`` to
    ``end``, both included; None: open-ended) for dashboards and donor reports: survey
    response rates and ratings, test scores and knowledge gain paired per person.
    ``programme_ids``: None for every programme. Nine queries whatever the size.
    """
    query = sa.select(Cohort.id, Cohort.name, Cohort.programme_id)
    if programme_ids is not None:
        query = query.where(Cohort.programme_id.in_(sorted(programme_ids)))
    if start is not None:
        query = query.where(Cohort.end_date >= start)
    if end is not None:
        query = query.where(Cohort.start_date <= end)
    query = query.where(sa.exists().where(Evaluation.cohort_id == Cohort.id))
    cohorts = db.session.execute(query.order_by(Cohort.start_date, Cohort.id)).all()
    if not cohorts:
        return ProgrammeEvaluationSummary([], 0, 0, 0, None, [], 0, 0, None, None, None)
    evaluations = list(
        db.session.scalars(
            sa.select(Evaluation).where(Evaluation.cohort_id.in_([c.id for c in cohorts]))
        )
    )
    by_cohort: dict[int, dict[EvaluationKind, Evaluation]] = defaultdict(dict)
    for e in evaluations:
        by_cohort[e.cohort_id][e.kind] = e
    ids = [e.id for e in evaluations]
    counts = answer_counts(ids)
    may, left = _invited([c.id for c in cohorts], ids)
    survey_ids = [e.id for e in evaluations if e.kind == EvaluationKind.SURVEY]
    ratings: dict[tuple[int, str], list[int]] = {}  # (evaluation, text): [sum, count]
    if survey_ids:
        for evaluation_id, text, total, n in db.session.execute(
            sa.select(
                Question.evaluation_id, Question.text, sa.func.sum(Answer.rating), sa.func.count()
            )
            .join(Answer, Answer.question_id == Question.id)
            .where(
                Question.evaluation_id.in_(survey_ids),
                Question.kind == QuestionKind.RATING,
                Answer.rating.is_not(None),
            )
            .group_by(Question.evaluation_id, Question.id, Question.text)
        ):
            key = (evaluation_id, text)
            ratings.setdefault(key, [0, 0])
            ratings[key][0] += int(total or 0)
            ratings[key][1] += int(n)
    pairs = _pairs([e.id for e in evaluations if e.kind == EvaluationKind.TEST])
    rows = []
    for cohort_id, name, programme_id in cohorts:
        survey = by_cohort[cohort_id].get(EvaluationKind.SURVEY)
        test = by_cohort[cohort_id].get(EvaluationKind.TEST)
        invited = responses = 0
        average = None
        if survey is not None:
            responses = counts.get((survey.id, Phase.SURVEY), 0)
            invited = may.get(cohort_id, 0) + left.get((survey.id, Phase.SURVEY), 0)
            given = [v for (e, _t), v in ratings.items() if e == survey.id]
            total, n = sum(v[0] for v in given), sum(v[1] for v in given)
            average = round(total / n, 2) if n else None
        pair = pairs.get(test.id) if test is not None else None
        rows.append(
            CohortEvaluationSummary(
                cohort_id=cohort_id,
                cohort_name=name,
                programme_id=programme_id,
                survey_invited=invited,
                survey_responses=responses,
                rating_average=average,
                test_pre=counts.get((test.id, Phase.PRE), 0) if test is not None else 0,
                test_post=counts.get((test.id, Phase.POST), 0) if test is not None else 0,
                paired=pair.paired if pair else 0,
                mean_pre_pct=pair.mean_pre_pct if pair else None,
                mean_post_pct=pair.mean_post_pct if pair else None,
                mean_gain_pct=pair.mean_gain_pct if pair else None,
            )
        )
    by_text: dict[str, list[int]] = {}
    for (_e, text), (total, n) in ratings.items():
        by_text.setdefault(text, [0, 0])
        by_text[text][0] += total
        by_text[text][1] += n
    paired = sum(r.paired for r in rows)
    grand_total = sum(v[0] for v in by_text.values())
    grand_n = sum(v[1] for v in by_text.values())
    return ProgrammeEvaluationSummary(
        cohorts=rows,
        surveys=len(survey_ids),
        survey_invited=sum(r.survey_invited for r in rows),
        survey_responses=sum(r.survey_responses for r in rows),
        rating_average=round(grand_total / grand_n, 2) if grand_n else None,
        ratings=[
            RatingSummary(text, n, round(total / n, 2) if n else None)
            for text, (total, n) in sorted(by_text.items(), key=lambda kv: -kv[1][1])
        ],
        tests=len(evaluations) - len(survey_ids),
        paired=paired,
        mean_pre_pct=_weighted(rows, "mean_pre_pct"),
        mean_post_pct=_weighted(rows, "mean_post_pct"),
        mean_gain_pct=_weighted(rows, "mean_gain_pct"),
    )


def _weighted(rows: list[CohortEvaluationSummary], name: str) -> float | None:
    """The mean over every paired person of the cohorts' means (weighted by their people)."""
    weights = [(getattr(r, name), r.paired) for r in rows if getattr(r, name) is not None]
    total = sum(n for _v, n in weights)
    return round(sum(v * n for v, n in weights) / total, 2) if total else None
