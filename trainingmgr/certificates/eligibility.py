"""Who has completed a cohort: its completion rule applied to the one attendance computation.

A cohort's rule (defaults copied from its programme when the cohort is created):

- ``min_attendance_pct``: attendance rate (``attendance_summary``, counted in SQL by
  ``attendance.bulk.attendance_summaries``) at least this percentage;
- ``min_hours``: hours attended (present or late) at least this many;
- ``required_modules``: each attended (present or late) at least once;
- a required end-of-course survey (``evaluations``): answered.

``eligibility`` runs a bounded number of queries whatever the number of enrolments and gives,
for each enrolment, the reasons in words when it is not eligible.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import sqlalchemy as sa
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from trainingmgr.attendance.bulk import attendance_summaries, attended_modules
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.attendance.summary import Summary
from trainingmgr.cohorts.models import Cohort, Enrolment, Session
from trainingmgr.core.cache import TimedCache
from trainingmgr.core.errors import NotFound
from trainingmgr.core.numbers import fmt_number
from trainingmgr.evaluations.completion import required_survey_answered, survey_required_clause
from trainingmgr.evaluations.models import Evaluation, EvaluationSubmission
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Module


@dataclass(frozen=True)
class Eligibility:
    """One enrolment measured against its cohort's rule. ``reasons`` (why it is not eligible,
    in words) are written when asked for: a page counts 1,725 participants and explains 100."""

    eligible: bool
    summary: Summary = field(default_factory=Summary)
    min_pct: int | None = None
    min_hours: Decimal | None = None
    missing_modules: tuple[str, ...] = ()  # codes of required modules not attended
    survey_missing: bool = False
    # The language the reasons are written in: the one current when the rule was applied.
    locale: str | None = field(default=None, compare=False)

    @cached_property
    def reasons(self) -> list[str]:
        current = get_locale()
        if self.locale is None or (current is not None and str(current) == self.locale):
            return self._reasons()
        with force_locale(self.locale):
            return self._reasons()

    def _reasons(self) -> list[str]:
        reasons = [
            r
            for r in (
                _rate_reason(self.summary, self.min_pct),
                _hours_reason(self.summary, self.min_hours),
            )
            if r
        ]
        reasons += [_("module %(code)s not attended", code=code) for code in self.missing_modules]
        if self.survey_missing:
            reasons.append(_("the end-of-course survey is not answered"))
        return reasons


def fmt_hours(value: Decimal | int) -> str:
    """Hours without trailing zeros, in the current locale ("12.5", "20")."""
    return fmt_number(value)


def _load_cohort(cohort_id: int) -> tuple[Cohort, bool]:
    """The cohort with its required modules, and whether it requires its survey answered."""
    row = db.session.execute(
        sa.select(Cohort, survey_required_clause(Cohort.id))
        .where(Cohort.id == cohort_id)
        .options(selectinload(Cohort.required_modules))
    ).first()
    if row is None:
        raise NotFound(_("There is no such cohort."))
    return row[0], bool(row[1])


def _rate_short(summary: Summary, min_pct: int | None) -> bool:
    if min_pct is None or min_pct <= 0:
        return False
    return summary.counted <= 0 or summary.below(min_pct)


def _hours_short(summary: Summary, min_hours: Decimal | None) -> bool:
    return min_hours is not None and summary.hours < min_hours


def _rate_reason(summary: Summary, min_pct: int | None) -> str | None:
    if not _rate_short(summary, min_pct):
        return None
    if summary.counted <= 0:
        return _("no session attended yet (minimum %(min)s%%)", min=min_pct)
    return _(
        "%(attended)s of %(counted)s sessions, %(pct)s%% is below %(min)s%%",
        attended=summary.attended,
        counted=summary.counted,
        pct=summary.rate_pct,
        min=min_pct,
    )


def _hours_reason(summary: Summary, min_hours: Decimal | None) -> str | None:
    if min_hours is None or not _hours_short(summary, min_hours):
        return None
    return _(
        "%(hours)s hours, below the minimum of %(min)s",
        hours=fmt_hours(summary.hours),
        min=fmt_hours(min_hours),
    )


def eligibility(
    cohort_id: int, enrolment_ids: Iterable[int] | None = None
) -> dict[int, Eligibility]:
    """Whether each enrolment (default: the cohort's active ones) meets the completion rule.

    At most six queries whatever the number of enrolments (seven when the cohort requires
    its survey to be answered). The attendance is counted by the database
    (``attendance.bulk``): pass no ``enrolment_ids`` for all the active ones.
    """
    cohort, survey_required = _load_cohort(cohort_id)
    ids = list(enrolment_ids) if enrolment_ids is not None else None
    summaries = attendance_summaries(cohort_id, ids)
    required = sorted(cohort.required_modules, key=lambda m: (m.position, m.code))
    attended = attended_modules(cohort_id, ids, [m.id for m in required])
    survey = required_survey_answered(list(summaries)) if survey_required else {}
    min_pct, min_hours = cohort.min_attendance_pct, cohort.min_hours
    locale = get_locale()
    language = str(locale) if locale is not None else None
    result: dict[int, Eligibility] = {}
    for enrolment_id, summary in summaries.items():
        missing = tuple(m.code for m in required if m.id not in attended[enrolment_id])
        no_survey = survey.get(enrolment_id) is False
        eligible = not (
            _rate_short(summary, min_pct)
            or _hours_short(summary, min_hours)
            or missing
            or no_survey
        )
        result[enrolment_id] = Eligibility(
            eligible, summary, min_pct, min_hours, missing, no_survey, language
        )
    return result


# The dashboard's "eligible, not issued yet" looks at the cohorts that ended last: who meets
# the rule there is kept a minute per cohort, and dropped as soon as this process writes
# attendance, enrolments, sessions, cohorts, modules or survey answers (``core.cache``).
# Issuing and the certificates page always check afresh (``eligibility``).
ELIGIBLE_TTL = 60.0
_eligible: TimedCache[int, frozenset[int]] = TimedCache(
    ELIGIBLE_TTL,
    AttendanceRecord,
    Enrolment,
    Session,
    Cohort,
    Module,
    Evaluation,
    EvaluationSubmission,
)


def eligible_ids(cohort_ids: Collection[int]) -> dict[int, frozenset[int]]:
    """{cohort id: the ids of its active enrolments that meet the completion rule}, as
    checked in the last minute (see ``ELIGIBLE_TTL``)."""

    def check(missing: list[int]) -> dict[int, frozenset[int]]:
        return {
            cohort_id: frozenset(
                e for e, result in eligibility(cohort_id).items() if result.eligible
            )
            for cohort_id in missing
        }

    return _eligible.get_many(sorted(set(cohort_ids)), check)
