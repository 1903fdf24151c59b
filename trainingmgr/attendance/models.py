"""Attendance records. The database itself refuses a record whose session and enrolment
belong to different cohorts (composite foreign keys through ``cohort_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.attendance import totals
from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User
    from trainingmgr.cohorts.models import Enrolment, Session


class AttendanceStatus(Choice):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"


ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class AttendanceSource(Choice):
    ROSTER = "roster"
    CHECK_IN = "check_in"
    IMPORT = "import"


class AttendanceRecord(db.Model):
    __tablename__ = "attendance_records"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "enrolment_id"),
        sa.ForeignKeyConstraint(
            ["session_id", "cohort_id"],
            ["sessions.id", "sessions.cohort_id"],
            ondelete="CASCADE",
            name="fk_attendance_records_session_same_cohort",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id", "cohort_id"],
            ["enrolments.id", "enrolments.cohort_id"],
            ondelete="CASCADE",
            name="fk_attendance_records_enrolment_same_cohort",
        ),
        sa.Index("ix_attendance_records_enrolment_id", "enrolment_id"),
        sa.Index("ix_attendance_records_cohort_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column()
    enrolment_id: Mapped[int] = mapped_column()
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    status: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    source: Mapped[AttendanceSource] = mapped_column(
        str_enum(AttendanceSource, "attendance_source"), default=AttendanceSource.ROSTER
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Incremented on every change: lets two people saving one roster detect a conflict.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    session: Mapped[Session] = relationship(foreign_keys=[session_id], viewonly=True)
    enrolment: Mapped[Enrolment] = relationship(foreign_keys=[enrolment_id], viewonly=True)
    recorded_by: Mapped[User | None] = relationship()


class EnrolmentAttendance(db.Model):
    """Each enrolment's attendance totals over the sessions held (scheduled, not cancelled):
    sessions attended (present or late), excused, and hours attended in hundredths. Kept by
    the database's own triggers (``attendance.totals``) on every write to attendance
    records, sessions and enrolments, whatever wrote it, so the donor dashboard reads one
    row per enrolment instead of aggregating every record on each request."""

    __tablename__ = "enrolment_attendance"

    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    attended: Mapped[int] = mapped_column(default=0, server_default="0")
    excused: Mapped[int] = mapped_column(default=0, server_default="0")
    centi: Mapped[int] = mapped_column(default=0, server_default="0")


totals.install(db.metadata)
