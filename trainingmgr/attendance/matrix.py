"""The cohort's attendance matrix: participants by sessions with statuses, rates, hours and
turnout, loaded with a bounded number of queries (each record once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload

from trainingmgr.attendance.access import can_view_cohort
from trainingmgr.attendance.models import (
    ATTENDED,
    AttendanceRecord,
    AttendanceStatus,
)
from trainingmgr.attendance.summary import SessionFilter, Summary, session_hours, summarise
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    Enrolment,
    Session,
    SessionStatus,
)
from trainingmgr.core.errors import Forbidden, NotFound
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Module


@dataclass
class MatrixColumn:
    session: Session
    recorded: int = 0
    attended: int = 0

    @property
    def held(self) -> bool:
        return self.recorded > 0


@dataclass
class MatrixRow:
    enrolment: Enrolment  # with .person loaded
    summary: Summary
    below: bool
    cells: list[AttendanceStatus | None]


@dataclass
class Matrix:
    cohort: Cohort
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    filter: SessionFilter

    @property
    def enrolled(self) -> int:
        return len(self.rows)

    @property
    def below_count(self) -> int:
        return sum(1 for r in self.rows if r.below)

    def turnout_pct(self, column: MatrixColumn) -> int | None:
        if not column.held or not self.rows:
            return None
        return column.attended * 100 // len(self.rows)


def cohort_for_matrix(user: Any, cohort_id: int) -> Cohort:
    cohort = db.session.scalars(
        sa.select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.programme))
    ).first()
    if cohort is None:
        raise NotFound(_("There is no such cohort."))
    if not can_view_cohort(user, cohort):
        raise Forbidden(_("Only coordinators and the cohort's trainers see its attendance."))
    return cohort


def cohort_modules(cohort: Cohort) -> list[Module]:
    """The modules of the cohort's programme (the matrix's module filter)."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.programme_id == cohort.programme_id)
            .order_by(Module.position, Module.code)
        )
    )


def attendance_matrix(cohort: Cohort, sessions: SessionFilter | None = None) -> Matrix:
    """Participants by sessions with statuses, rates, hours and turnout (bounded queries).

    ``cohort`` comes from ``cohort_for_matrix``, which checks who may see it. The records
    are loaded once, as plain (enrolment, session, status) tuples: the cells, the turnout
    and the summaries (``summarise``, the one rule) all come from that one list.
    """
    cohort_id = cohort.id
    flt = sessions or SessionFilter()
    session_list = list(
        db.session.scalars(
            flt.apply(
                sa.select(Session)
                .where(Session.cohort_id == cohort_id, Session.status == SessionStatus.SCHEDULED)
                .options(joinedload(Session.module))
                .order_by(Session.starts_at, Session.id)
            )
        )
    )
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.person)
            .options(contains_eager(Enrolment.person))
            .where(Enrolment.cohort_id == cohort_id, Enrolment.status.in_(ACTIVE_ENROLMENT))
            .order_by(Person.last_name, Person.first_name, Enrolment.id)
        )
    )
    columns = [MatrixColumn(s) for s in session_list]
    # One row per enrolment, its records packed as "session id:status,...": a 120 x 60
    # matrix is 120 short rows to fetch instead of 7,200 (most of the page's time).
    position = {str(s.id): i for i, s in enumerate(session_list)}
    cells: dict[int, list[AttendanceStatus | None]] = {
        e.id: [None] * len(session_list) for e in enrolments
    }
    records: list[tuple[int, int, str]] = []  # (enrolment, column, status) of those shown
    if session_list:
        statuses = {s.value: s for s in AttendanceStatus}
        attended = frozenset(s.value for s in ATTENDED)
        recorded = [0] * len(columns)
        turnout = [0] * len(columns)
        packed = sa.func.aggregate_strings(
            sa.cast(AttendanceRecord.session_id, sa.String)
            + ":"
            + sa.type_coerce(AttendanceRecord.status, sa.String),
            ",",
        )
        for eid, items in db.session.execute(
            sa.select(AttendanceRecord.enrolment_id, packed)
            .where(
                AttendanceRecord.cohort_id == cohort_id,
                AttendanceRecord.session_id.in_([s.id for s in session_list]),
            )
            .group_by(AttendanceRecord.enrolment_id)
        ):
            row = cells.get(eid)  # None: withdrawn since (the sessions still count as held)
            for item in items.split(","):
                sid, _sep, raw = item.partition(":")
                i = position[sid]
                recorded[i] += 1
                if row is not None:
                    row[i] = statuses[raw]
                    records.append((eid, i, raw))
                    if raw in attended:
                        turnout[i] += 1
        for column, n, a in zip(columns, recorded, turnout, strict=True):
            column.recorded, column.attended = n, a
    held = {
        i: session_hours(c.session.starts_at, c.session.ends_at)
        for i, c in enumerate(columns)
        if c.held
    }
    summaries = summarise(held, cells, records)  # held and records by column
    min_pct = cohort.min_attendance_pct
    rows = [
        MatrixRow(
            enrolment=e,
            summary=summaries[e.id],
            below=summaries[e.id].below(min_pct),
            cells=cells[e.id],
        )
        for e in enrolments
    ]
    return Matrix(cohort, columns, rows, flt)


# --------------------------------------------------------------------------- exports
