"""The cohort's attendance matrix: participants by sessions with statuses, rates, hours and
turnout, loaded with a bounded number of queries (each record once)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload

from trainingmgr.accounts.models import User
from trainingmgr.attendance.access import can_view_cohort
from trainingmgr.attendance.models import (
    AttendanceRecord,
    AttendanceStatus,
)
from trainingmgr.attendance.summary import (
    ATTENDED_SLOTS,
    SLOT,
    SessionFilter,
    Summary,
    from_slots,
    session_hours,
)
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    Session,
)
from trainingmgr.core.errors import Forbidden, NotFound
from trainingmgr.core.pagination import Page
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Module

_ZERO = Decimal("0.00")


# People per page of the matrix: a course of 120 fits on one; its turnout and exports
# count everyone.
MATRIX_PER_PAGE = 150


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

    def page(self, number: int, per_page: int = MATRIX_PER_PAGE) -> Page[MatrixRow]:
        """The rows of page ``number`` (the last one beyond it): a cohort of 1,800 is shown
        150 people at a time; the turnout and the exports still count everyone."""
        pages = max(1, -(-len(self.rows) // per_page))
        number = min(max(number, 1), pages)
        shown = self.rows[(number - 1) * per_page : number * per_page]
        return Page(shown, number, per_page, len(self.rows))

    @property
    def below_count(self) -> int:
        return sum(1 for r in self.rows if r.below)

    def turnout_pct(self, column: MatrixColumn) -> int | None:
        if not column.held or not self.rows:
            return None
        return column.attended * 100 // len(self.rows)


def cohort_for_matrix(cohort_id: int, *, actor: User) -> Cohort:
    cohort = db.session.scalars(
        sa.select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.programme))
    ).first()
    if cohort is None:
        raise NotFound(_("There is no such cohort."))
    if not can_view_cohort(cohort, actor=actor):
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


def _matrix_sessions(cohort_id: int, flt: SessionFilter) -> list[Session]:
    return list(
        db.session.scalars(
            flt.apply(
                sa.select(Session)
                .where(Session.cohort_id == cohort_id, Session.scheduled)
                .options(joinedload(Session.module))
                .order_by(Session.starts_at, Session.id)
            )
        )
    )


def _matrix_enrolments(cohort_id: int) -> list[Enrolment]:
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.person)
            .options(contains_eager(Enrolment.person))
            .where(Enrolment.cohort_id == cohort_id, Enrolment.active)
            .order_by(Person.last_name, Person.first_name, Enrolment.id)
        )
    )


def _packed_records(cohort_id: int, sessions: list[Session]) -> Any:
    """(enrolment id, "session id:status,...") per enrolment with records in ``sessions``:
    a 120 x 60 matrix is 120 short rows to fetch instead of 7,200 (most of the page's time)."""
    packed = sa.func.aggregate_strings(
        sa.cast(AttendanceRecord.session_id, sa.String)
        + ":"
        + sa.type_coerce(AttendanceRecord.status, sa.String),
        ",",
    )
    return db.session.execute(
        sa.select(AttendanceRecord.enrolment_id, packed)
        .where(
            AttendanceRecord.cohort_id == cohort_id,
            AttendanceRecord.session_id.in_([s.id for s in sessions]),
        )
        .group_by(AttendanceRecord.enrolment_id)
    )


@dataclass
class _Tally:
    """The cells, per-enrolment counts (by ``summary.SLOT``) and hours, and per-column counts,
    filled in one pass over the packed records."""

    columns: list[MatrixColumn]
    cells: dict[int, list[AttendanceStatus | None]]
    slots: dict[int, list[int]]
    hours: dict[int, Decimal]

    def read(self, packed: Any) -> None:
        hours_of = [session_hours(c.session.starts_at, c.session.ends_at) for c in self.columns]
        # Every "session id:status" item a record can be, with what it means: one dict
        # look-up per record.
        item_of = {
            f"{c.session.id}:{st.value}": (i, st, SLOT[st], hours_of[i])
            for i, c in enumerate(self.columns)
            for st in AttendanceStatus
        }
        recorded = [0] * len(self.columns)
        turnout = [0] * len(self.columns)
        for eid, items in packed:
            row = self.cells.get(eid)  # None: withdrawn since (the sessions still count as held)
            slots = self.slots.get(eid)
            hours = _ZERO
            for item in items.split(","):
                i, st, slot, session_hours_ = item_of[item]
                recorded[i] += 1
                if row is None:
                    continue
                row[i] = st
                slots[slot] += 1  # type: ignore[index]
                if slot < ATTENDED_SLOTS:
                    turnout[i] += 1
                    hours += session_hours_
            if row is not None:
                self.hours[eid] = hours
        for column, n, a in zip(self.columns, recorded, turnout, strict=True):
            column.recorded, column.attended = n, a


def attendance_matrix(cohort: Cohort, sessions: SessionFilter | None = None) -> Matrix:
    """Participants by sessions with statuses, rates, hours and turnout (four queries).

    ``cohort`` comes from ``cohort_for_matrix``, which checks who may see it. The records
    are loaded once, packed per enrolment, and one pass gives the cells, the turnout and each
    enrolment's counts, from which ``summary.from_slots`` (the one rule) makes its summary.
    A session with any record (of anyone, withdrawn people included) is held.
    """
    flt = sessions or SessionFilter()
    session_list = _matrix_sessions(cohort.id, flt)
    enrolments = _matrix_enrolments(cohort.id)
    width = len(session_list)
    tally = _Tally(
        columns=[MatrixColumn(s) for s in session_list],
        cells={e.id: [None] * width for e in enrolments},
        slots={e.id: [0, 0, 0, 0] for e in enrolments},
        hours={},
    )
    if session_list:
        tally.read(_packed_records(cohort.id, session_list))
    n_held = sum(1 for c in tally.columns if c.held)
    min_pct = cohort.min_attendance_pct
    rows = []
    for e in enrolments:
        summary = from_slots(n_held, tally.slots[e.id], tally.hours.get(e.id, _ZERO))
        rows.append(MatrixRow(e, summary, summary.below(min_pct), tally.cells[e.id]))
    return Matrix(cohort, tally.columns, rows, flt)
