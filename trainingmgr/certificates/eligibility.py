"""Who has completed a cohort: its completion rule applied to the one attendance computation.

A cohort's rule (defaults copied from its programme when the cohort is created):

- ``min_attendance_pct``: attendance rate (``attendance_summary``) at least this percentage;
- ``min_hours``: hours attended (present or late) at least this many;
- ``required_modules``: each attended (present or late) at least once;
- a required end-of-course survey (``evaluations``): answered.

``eligibility`` runs a bounded number of queries whatever the number of enrolments and gives,
for each enrolment, the reasons in words when it is not eligible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from trainingmgr.attendance.models import ATTENDED, AttendanceRecord
from trainingmgr.attendance.summary import Summary, attendance_summary
from trainingmgr.cohorts.models import Cohort, Session, SessionStatus
from trainingmgr.core.errors import NotFound
from trainingmgr.evaluations.completion import required_survey_answered, survey_required_clause
from trainingmgr.extensions import db


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)


def fmt_hours(value: Decimal | int) -> str:
    """Hours without trailing zeros, in the current locale ("12.5", "20")."""
    return format_decimal(Decimal(value).normalize(), format="#,##0.##")


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


def _attended_modules(
    cohort_id: int, enrolment_ids: list[int], module_ids: list[int]
) -> dict[int, set[int]]:
    """{enrolment id: ids of the given modules it attended (present or late) at least once}."""
    attended: dict[int, set[int]] = defaultdict(set)
    if not enrolment_ids or not module_ids:
        return attended
    rows = db.session.execute(
        sa.select(AttendanceRecord.enrolment_id, Session.module_id)
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.cohort_id == cohort_id,
            AttendanceRecord.enrolment_id.in_(enrolment_ids),
            AttendanceRecord.status.in_(ATTENDED),
            Session.status == SessionStatus.SCHEDULED,
            Session.module_id.in_(module_ids),
        )
        .distinct()
    )
    for enrolment_id, module_id in rows:
        attended[enrolment_id].add(module_id)
    return attended


def _rate_reason(summary: Summary, min_pct: int | None) -> str | None:
    if min_pct is None or min_pct <= 0:
        return None
    if summary.counted <= 0:
        return _("no session attended yet (minimum %(min)s%%)", min=min_pct)
    if summary.below(min_pct):
        return _(
            "%(attended)s of %(counted)s sessions, %(pct)s%% is below %(min)s%%",
            attended=summary.attended,
            counted=summary.counted,
            pct=summary.rate_pct,
            min=min_pct,
        )
    return None


def _hours_reason(summary: Summary, min_hours: Decimal | None) -> str | None:
    if min_hours is None or summary.hours >= min_hours:
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
    its survey to be answered).
    """
    cohort, survey_required = _load_cohort(cohort_id)
    summaries = attendance_summary(
        cohort_id, list(enrolment_ids) if enrolment_ids is not None else None
    )
    required = sorted(cohort.required_modules, key=lambda m: (m.position, m.code))
    attended = _attended_modules(cohort_id, list(summaries), [m.id for m in required])
    survey = required_survey_answered(list(summaries)) if survey_required else {}
    result: dict[int, Eligibility] = {}
    for enrolment_id, summary in summaries.items():
        reasons = [
            r
            for r in (
                _rate_reason(summary, cohort.min_attendance_pct),
                _hours_reason(summary, cohort.min_hours),
            )
            if r
        ]
        reasons += [
            _("module %(code)s not attended", code=m.code)
            for m in required
            if m.id not in attended[enrolment_id]
        ]
        if survey.get(enrolment_id) is False:
            reasons.append(_("the end-of-course survey is not answered"))
        result[enrolment_id] = Eligibility(not reasons, reasons, summary)
    return result
