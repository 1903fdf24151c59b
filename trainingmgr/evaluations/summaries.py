"""Evaluations: figures aggregated over the cohorts of programmes in a period, for dashboards
and the donor report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from trainingmgr.cohorts.models import Cohort
from trainingmgr.core.scope import in_programmes
from trainingmgr.evaluations.aggregates import _invited, _pairs, _pct
from trainingmgr.evaluations.common import answer_counts
from trainingmgr.evaluations.models import (
    Answer,
    Evaluation,
    EvaluationKind,
    Phase,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db


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
    cohorts = _cohorts(programme_ids, start, end)
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
    ratings = _rating_sums(survey_ids)
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
    return _total(rows, ratings, len(survey_ids), len(evaluations) - len(survey_ids))


def _cohorts(
    programme_ids: Collection[int] | None, start: date | None, end: date | None
) -> list[sa.Row[tuple[int, str, int]]]:
    """(id, name, programme id) of the programmes' cohorts overlapping the period that have a
    survey or a test, by start date (one query)."""
    query = sa.select(Cohort.id, Cohort.name, Cohort.programme_id).where(
        in_programmes(Cohort.programme_id, programme_ids)
    )
    if start is not None:
        query = query.where(Cohort.end_date >= start)
    if end is not None:
        query = query.where(Cohort.start_date <= end)
    query = query.where(sa.exists().where(Evaluation.cohort_id == Cohort.id))
    return list(db.session.execute(query.order_by(Cohort.start_date, Cohort.id)).all())


def _rating_sums(survey_ids: list[int]) -> dict[tuple[int, str], list[int]]:
    """{(survey id, question text): [sum of the ratings, how many]} (one query)."""
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
    return ratings


def _total(
    rows: list[CohortEvaluationSummary],
    ratings: dict[tuple[int, str], list[int]],
    surveys: int,
    tests: int,
) -> ProgrammeEvaluationSummary:
    """The cohorts' figures added up, and each rating question over the cohorts that asked it."""
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
        surveys=surveys,
        survey_invited=sum(r.survey_invited for r in rows),
        survey_responses=sum(r.survey_responses for r in rows),
        rating_average=round(grand_total / grand_n, 2) if grand_n else None,
        ratings=[
            RatingSummary(text, n, round(total / n, 2) if n else None)
            for text, (total, n) in sorted(by_text.items(), key=lambda kv: -kv[1][1])
        ],
        tests=tests,
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
