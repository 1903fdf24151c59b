"""Evaluations of a cohort: its end-of-course survey and its knowledge test.

A cohort has at most one evaluation of each kind. The survey is answered once (phase
``survey``); the test twice, before and after the course (phases ``pre`` and ``post``), with
the same questions, so each participant's gain can be paired.

Who has answered and what was answered are kept apart so that an anonymous survey cannot be
linked to a person:

- ``EvaluationSubmission`` (evaluation, phase, enrolment) says that an enrolment has answered:
  its primary key stops a second answer. It has no time and no link to the answers.
- ``EvaluationResponse`` holds the answers. Its key is random (not a counter that follows the
  order of submissions); for an anonymous survey it has no enrolment and no time either.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db


class EvaluationKind(Choice):
    SURVEY = "survey"
    TEST = "test"


class Phase(Choice):
    SURVEY = "survey"
    PRE = "pre"
    POST = "post"


class QuestionKind(Choice):
    RATING = "rating"  # 1 to 5
    CHOICE = "choice"  # one of the options
    TEXT = "text"  # free text


# The phases of each kind of evaluation, in the order they are taken.
PHASES = {EvaluationKind.SURVEY: (Phase.SURVEY,), EvaluationKind.TEST: (Phase.PRE, Phase.POST)}
RATING_SCALE = (1, 2, 3, 4, 5)


def random_key() -> str:
    return secrets.token_hex(16)


class Evaluation(db.Model):
    __tablename__ = "evaluations"
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "kind"),
        sa.CheckConstraint("kind = 'survey' OR NOT anonymous", name="only_surveys_anonymous"),
        sa.CheckConstraint("kind = 'survey' OR NOT required", name="only_surveys_required"),
        sa.CheckConstraint(
            "kind = 'test' OR (pre_opens_at IS NULL AND pre_closes_at IS NULL)",
            name="pre_window_only_for_tests",
        ),
        sa.CheckConstraint(
            "(opens_at IS NULL) = (closes_at IS NULL) AND "
            "(opens_at IS NULL OR closes_at > opens_at)",
            name="window_order",
        ),
        sa.CheckConstraint(
            "(pre_opens_at IS NULL) = (pre_closes_at IS NULL) AND "
            "(pre_opens_at IS NULL OR pre_closes_at > pre_opens_at)",
            name="pre_window_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[EvaluationKind] = mapped_column(str_enum(EvaluationKind, "evaluation_kind"))
    # Answers stored without the person (surveys only); fixed once someone has answered.
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The cohort's completion rule requires the survey to be answered.
    required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # When the survey (or the test after the course) may be answered; None: not open.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the test before the course may be taken (tests only).
    pre_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pre_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="evaluation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(Question.position, Question.id)",
    )

    @property
    def phases(self) -> tuple[Phase, ...]:
        return PHASES[self.kind]

    def window(self, phase: Phase) -> tuple[datetime | None, datetime | None]:
        if phase == Phase.PRE:
            return self.pre_opens_at, self.pre_closes_at
        return self.opens_at, self.closes_at

    def is_open(self, phase: Phase, now: datetime) -> bool:
        opens, closes = self.window(phase)
        return opens is not None and closes is not None and opens <= now < closes

    def __repr__(self) -> str:
        return f"<Evaluation {self.id} cohort={self.cohort_id} {self.kind}>"


class Question(db.Model):
    __tablename__ = "evaluation_questions"
    __table_args__ = (
        sa.CheckConstraint("correct IS NULL OR correct >= 0", name="correct_not_negative"),
        sa.Index("ix_evaluation_questions_evaluation_id", "evaluation_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(sa.Text)
    # Multiple choice: the options, in order; the answer stores the option's index.
    options: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Knowledge tests: the index of the correct option.
    correct: Mapped[int | None]
    required: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    evaluation: Mapped[Evaluation] = relationship(back_populates="questions")

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.kind}>"


class EvaluationSubmission(db.Model):
    """That an enrolment has answered a phase of an evaluation: no time, no link to answers."""

    __tablename__ = "evaluation_submissions"
    __table_args__ = (sa.Index("ix_evaluation_submissions_enrolment_id", "enrolment_id"),)

    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[Phase] = mapped_column(str_enum(Phase, "evaluation_phase"), primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )


class EvaluationResponse(db.Model):
    """One set of answers. Anonymous ones have no enrolment and no time."""

    __tablename__ = "evaluation_responses"
    __table_args__ = (
        sa.UniqueConstraint("evaluation_id", "phase", "enrolment_id"),
        sa.CheckConstraint(
            "(enrolment_id IS NULL) = (submitted_at IS NULL)", name="time_only_when_named"
        ),
        sa.CheckConstraint("score IS NULL OR score >= 0", name="score_not_negative"),
        sa.Index("ix_evaluation_responses_enrolment_id", "enrolment_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_key)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"))
    phase: Mapped[Phase] = mapped_column(str_enum(Phase, "evaluation_phase"))
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Tests: how many questions were answered correctly, counted when submitted (a test's
    # questions are fixed once anyone has answered, so it never goes stale).
    score: Mapped[int | None]

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    __tablename__ = "evaluation_answers"
    __table_args__ = (
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        sa.CheckConstraint("choice IS NULL OR choice >= 0", name="choice_not_negative"),
        sa.Index("ix_evaluation_answers_question_id", "question_id"),
    )

    # No counter of its own: a serial id would follow the order in which people answered.
    response_id: Mapped[str] = mapped_column(
        sa.ForeignKey("evaluation_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluation_questions.id", ondelete="CASCADE"), primary_key=True
    )
    rating: Mapped[int | None]
    choice: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[EvaluationResponse] = relationship(back_populates="answers")
