"""Evaluations of the demo data (``trainingmgr.demo`` calls ``load``).

Each cohort that is over gets the default survey in its language, answered by most of its
participants; the Baku training of trainers also gets a knowledge test taken before and after;
other cohorts under way get a survey opening on their last day, except the demo participant's
roll-out in Baku, whose survey is open now (so the link shows on her home page). The demo
passes only the cohorts it has just created (a later run, or one on another day, adds
nothing); cohorts that already have an evaluation are left alone. Answers follow a fixed seed
per cohort.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.evaluations import services
from trainingmgr.evaluations.defaults import template_language
from trainingmgr.evaluations.models import Evaluation, EvaluationKind, Phase, QuestionKind
from trainingmgr.extensions import db

TOT_KEY = "tot"
OPEN_NOW_KEY = "ro-baku"  # the demo participant's roll-out, under way: its survey is open
TEST_QUESTIONS = (
    (
        "What is the first priority on arrival at a road traffic crash scene?",
        ["Treating the injured", "Making the scene safe", "Taking photographs"],
        2,
    ),
    (
        "Which casualties are treated first in triage?",
        ["The loudest", "Those with life-threatening but treatable injuries", "The youngest"],
        2,
    ),
    (
        "How long is the 'golden hour'?",
        ["The first hour after the injury", "The hour before sunset", "The hour after arrival"],
        1,
    ),
    (
        "Who should lead the coordination of agencies at a scene?",
        ["Whoever arrives first", "The incident commander", "The most senior official"],
        2,
    ),
    (
        "What makes a national roll-out training effective?",
        ["Reading the slides aloud", "Practical exercises on local cases", "A longer lunch"],
        2,
    ),
)
TEXTS = {
    "en": ["The practical exercises", "Working with colleagues from other countries", ""],
    "ru": ["Практические упражнения", "Обмен опытом с коллегами", ""],
    "az": ["Praktik məşğələlər", "Həmkarlarla təcrübə mübadiləsi", ""],
}


def _local(cohort: Cohort, day: object, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=cohort.tz).astimezone(UTC)  # type: ignore[arg-type]


def _answer_survey(rng: random.Random, survey: Evaluation, enrolment: Enrolment, lang: str) -> None:
    values: dict[str, object] = {}
    for q in survey.questions:
        if q.kind == QuestionKind.RATING:
            values[f"q{q.id}"] = rng.choices((2, 3, 4, 5), weights=(1, 3, 6, 5))[0]
        elif q.kind == QuestionKind.CHOICE:
            values[f"q{q.id}"] = str(rng.choices(range(len(q.options)), weights=None)[0])
        else:
            values[f"q{q.id}"] = rng.choice(TEXTS.get(lang, TEXTS["en"]))
    services.submit(services.AnswerSheet(enrolment.cohort, survey, Phase.SURVEY, enrolment), values)


def _answer_test(
    rng: random.Random, test: Evaluation, enrolment: Enrolment, phase: Phase, right: int
) -> None:
    questions = list(test.questions)
    correct = set(rng.sample(range(len(questions)), right))
    values = {
        f"q{q.id}": str(q.correct if i in correct else (q.correct + 1) % len(q.options))
        for i, q in enumerate(questions)
        if q.correct is not None
    }
    services.submit(services.AnswerSheet(enrolment.cohort, test, phase, enrolment), values)


def load(cohort_ids: Mapping[str, int], now: datetime) -> int:
    """Add the demo's evaluations; returns how many were added."""
    now = now.replace(microsecond=0)
    today = now.date()
    existing = set(
        db.session.scalars(
            sa.select(Evaluation.cohort_id).where(Evaluation.cohort_id.in_(cohort_ids.values()))
        )
    )
    added = 0
    for key, cohort_id in cohort_ids.items():
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None or cohort.id in existing or cohort.start_date > today:
            continue
        rng = random.Random(f"evaluations-{key}")
        finished = cohort.end_date < today
        lang = template_language(cohort.language)
        survey = services.create_evaluation(cohort, EvaluationKind.SURVEY, lang, actor=None)
        survey.anonymous = True
        end = _local(cohort, cohort.end_date, 12)
        survey.opens_at = now - timedelta(hours=1) if key == OPEN_NOW_KEY else end
        survey.closes_at = end + timedelta(days=21)
        if key == OPEN_NOW_KEY:
            survey.closes_at = max(end, survey.opens_at) + timedelta(days=14)
        added += 1
        enrolments = list(
            db.session.scalars(
                sa.select(Enrolment)
                .where(
                    Enrolment.cohort_id == cohort.id,
                    Enrolment.status.in_(services.MAY_ANSWER),
                )
                .order_by(Enrolment.id)
            )
        )
        test = None
        if key == TOT_KEY:
            test = services.create_evaluation(cohort, EvaluationKind.TEST, actor=None)
            for text, options, right in TEST_QUESTIONS:
                services.add_question(
                    test,
                    services.QuestionInput(QuestionKind.CHOICE, text, list(options), right),
                    actor=None,
                )
            test.pre_opens_at = _local(cohort, cohort.start_date, 8) - timedelta(days=3)
            test.pre_closes_at = _local(cohort, cohort.start_date, 12)
            test.opens_at, test.closes_at = survey.opens_at, survey.closes_at
            added += 1
        db.session.flush()
        for enrolment in enrolments:
            if test is not None:
                pre = rng.randint(1, 3)
                _answer_test(rng, test, enrolment, Phase.PRE, pre)
                if finished and rng.random() < 0.9:
                    _answer_test(rng, test, enrolment, Phase.POST, min(5, pre + rng.randint(1, 3)))
            if finished and rng.random() < 0.8:
                _answer_survey(rng, survey, enrolment, lang)
    db.session.flush()
    return added
