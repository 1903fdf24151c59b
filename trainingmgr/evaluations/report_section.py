"""The "Evaluations" section of the programme dashboard and the donor report
(``reports.sections``): survey response rates and ratings, and knowledge gained, per cohort
of the report's selection."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from trainingmgr.evaluations.services import CohortEvaluationSummary, programme_summary
from trainingmgr.reports import sections


def _number(value: float | None, suffix: str = "") -> str:
    return "–" if value is None else f"{format_decimal(round(value, 1))}{suffix}"


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + format_decimal(round(value, 1))


def evaluation_section(selection: sections.Selection) -> sections.Content | None:
    """Nine queries whatever the size (``programme_summary``); None when no cohort of the
    selection has a survey or a test."""
    if not selection.cohort_ids:
        return None
    wanted = set(selection.cohort_ids)
    summary = programme_summary(selection.programme_ids)
    cohorts: list[CohortEvaluationSummary] = [c for c in summary.cohorts if c.cohort_id in wanted]
    if not cohorts:
        return None
    return sections.Content(
        title=_("Evaluations"),
        figures=_figures(cohorts),
        tables=[_cohort_table(cohorts)],
        note=_(
            "Gain: the mean of each person's score after the course minus their score "
            "before, over the people who took the test both times."
        ),
    )


def _figures(cohorts: list[CohortEvaluationSummary]) -> list[tuple[str, str]]:
    """Survey responses, people tested twice and their mean gain, over the cohorts."""
    invited = sum(c.survey_invited for c in cohorts)
    responses = sum(c.survey_responses for c in cohorts)
    paired = sum(c.paired for c in cohorts)
    gains = [(c.mean_gain_pct, c.paired) for c in cohorts if c.mean_gain_pct is not None]
    mean_gain = sum(g * n for g, n in gains) / paired if gains and paired else None
    return [
        (
            _("Survey responses"),
            _(
                "%(responses)s of %(invited)s (%(pct)s)",
                responses=responses,
                invited=invited,
                pct=_number(100.0 * responses / invited if invited else None, "%"),
            ),
        ),
        (_("People tested before and after"), str(paired)),
        (_("Knowledge gained (points, after minus before)"), _signed(mean_gain)),
    ]


def _cohort_table(cohorts: list[CohortEvaluationSummary]) -> sections.Table:
    return sections.Table(
        _("Evaluations by cohort"),
        [
            _("Cohort"),
            _("Survey response rate"),
            _("Average rating (1–5)"),
            _("Tested before and after"),
            _("Score before"),
            _("Score after"),
            _("Gain"),
        ],
        [
            [
                c.cohort_name,
                _number(c.survey_rate_pct, "%"),
                _number(c.rating_average),
                c.paired,
                _number(c.mean_pre_pct, "%"),
                _number(c.mean_post_pct, "%"),
                _signed(c.mean_gain_pct),
            ]
            for c in cohorts
        ],
    )
