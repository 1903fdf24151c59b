"""Evaluations: a cohort's results: response rates, answers per question, the free text and
the test scores paired per person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainingmgr.cohorts.models import Enrolment
from trainingmgr.evaluations.aggregates import (
    Score,
    _choice_counts,
    _gain,
    _invited,
    _mean,
    _pct,
    _scores,
)
from trainingmgr.evaluations.common import answer_counts, cohort_evaluations
from trainingmgr.evaluations.models import (
    RATING_SCALE,
    Answer,
    Evaluation,
    EvaluationKind,
    EvaluationResponse,
    Phase,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db
from trainingmgr.people.models import Person


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
class PairedScore:
    enrolment: Enrolment | None
    pre: Score | None
    post: Score | None

    @property
    def gain(self) -> float | None:
        if self.pre is None or self.post is None:
            return None
        return _gain(self.pre.pct, self.post.pct, 1)


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


def results(cohort_id: int) -> dict[EvaluationKind, EvaluationResults]:
    """The cohort's survey and test results: response rates, answers per question, the free
    text, and the test scores paired per person. Nine queries whatever the number of people
    and answers."""
    evaluations = cohort_evaluations(cohort_id)
    ids = [e.id for e in evaluations.values()]
    counts = answer_counts(ids)
    may, left = _invited([cohort_id], ids)
    choices = _choice_counts(ids)
    texts = _survey_texts(evaluations.get(EvaluationKind.SURVEY))
    scores = _scores([e.id for e in evaluations.values() if e.kind == EvaluationKind.TEST])
    people = _people(scores)
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
        questions = _question_results(evaluation, choices, texts)
        paired: list[PairedScore] = []
        if kind == EvaluationKind.TEST:
            paired = _paired_scores(evaluation, scores, people)
        out[kind] = EvaluationResults(evaluation, phases, questions, paired)
    return out


def _survey_texts(survey: Evaluation | None) -> dict[int, list[str]]:
    """{question id: the free-text answers to the survey's question} (one query)."""
    texts: dict[int, list[str]] = defaultdict(list)
    if survey is not None:
        # Ordered by the random response key: never by who answered or when.
        for question_id, text in db.session.execute(
            sa.select(Answer.question_id, Answer.text)
            .join(EvaluationResponse, EvaluationResponse.id == Answer.response_id)
            .where(EvaluationResponse.evaluation_id == survey.id, Answer.text.is_not(None))
            .order_by(Answer.response_id)
        ):
            texts[question_id].append(text)
    return texts


def _people(scores: dict[tuple[int, int, Phase], Score]) -> dict[int, Enrolment]:
    """{enrolment id: enrolment, with its person} of those who took a test (one query)."""
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
    return people


def _question_results(
    evaluation: Evaluation,
    choices: dict[tuple[int, Phase], dict[tuple[int | None, int | None], int]],
    texts: dict[int, list[str]],
) -> list[QuestionResult]:
    """The answers to each of the evaluation's questions, per phase."""
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
    return questions


def _paired_scores(
    evaluation: Evaluation,
    scores: dict[tuple[int, int, Phase], Score],
    people: dict[int, Enrolment],
) -> list[PairedScore]:
    """The test's scores before and after, one per person, in the order of their names."""
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
    return paired


def _person_key(person: Person | None) -> tuple[str, ...]:
    from trainingmgr.certificates.export import name_order

    return name_order(person) if person is not None else ("",)
