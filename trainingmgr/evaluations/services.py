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

This module gathers the public names of the modules that implement them, so callers keep
importing ``services``: ``common`` (limits, loading, the lock once answered), ``editing``
(setting up), ``answering``, ``aggregates`` (the grouped queries), ``cohort_results``,
``exports`` (spreadsheets) and ``summaries`` (programmes).
"""

from __future__ import annotations

from trainingmgr.evaluations.aggregates import Score
from trainingmgr.evaluations.answering import (
    AnswerProblems,
    AnswerSheet,
    Invitation,
    answer_sheet,
    participant_invitations,
    score_of,
    submit,
)
from trainingmgr.evaluations.cohort_results import (
    EvaluationResults,
    PairedScore,
    PhaseResult,
    QuestionResult,
    results,
)
from trainingmgr.evaluations.common import (
    ANSWER_MAX_CHARS,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAY_ANSWER,
    OPTION_MAX_CHARS,
    QUESTION_MAX_CHARS,
    answer_counts,
    cohort_evaluations,
    get_evaluation,
    get_question,
    is_answered,
    kind_of,
)
from trainingmgr.evaluations.editing import (
    QuestionInput,
    SettingsInput,
    add_question,
    create_evaluation,
    delete_evaluation,
    delete_question,
    move_question,
    settings_of,
    update_question,
    update_settings,
)
from trainingmgr.evaluations.exports import survey_sheet, test_sheet
from trainingmgr.evaluations.summaries import (
    CohortEvaluationSummary,
    ProgrammeEvaluationSummary,
    RatingSummary,
    programme_summary,
)

__all__ = [
    "ANSWER_MAX_CHARS",
    "MAX_OPTIONS",
    "MAX_QUESTIONS",
    "MAY_ANSWER",
    "OPTION_MAX_CHARS",
    "QUESTION_MAX_CHARS",
    "AnswerProblems",
    "AnswerSheet",
    "CohortEvaluationSummary",
    "EvaluationResults",
    "Invitation",
    "PairedScore",
    "PhaseResult",
    "ProgrammeEvaluationSummary",
    "QuestionInput",
    "QuestionResult",
    "RatingSummary",
    "Score",
    "SettingsInput",
    "add_question",
    "answer_counts",
    "answer_sheet",
    "cohort_evaluations",
    "create_evaluation",
    "delete_evaluation",
    "delete_question",
    "get_evaluation",
    "get_question",
    "is_answered",
    "kind_of",
    "move_question",
    "participant_invitations",
    "programme_summary",
    "results",
    "score_of",
    "settings_of",
    "submit",
    "survey_sheet",
    "test_sheet",
    "update_question",
    "update_settings",
]
