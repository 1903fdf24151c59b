"""A cohort is one run of a programme: its sessions, its trainers and its enrolled people."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db, link_table
from trainingmgr.programmes.models import CertificateLanguage

if TYPE_CHECKING:
    from trainingmgr.people.models import Person
    from trainingmgr.programmes.models import Module, Programme


class DeliveryMode(Choice):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class CohortStatus(Choice):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class SessionStatus(Choice):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EnrolmentStatus(Choice):
    APPLIED = "applied"
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"


# Enrolments that take a seat and appear on attendance rosters.
ACTIVE_ENROLMENT = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)

cohort_required_modules = link_table(
    "cohort_required_modules",
    ("cohort_id", "cohorts.id"),
    ("module_id", "modules.id"),
    other_ondelete="RESTRICT",
)

session_trainers = link_table(
    "session_trainers",
    ("session_id", "sessions.id"),
    ("person_id", "people.id"),
    other_ondelete="RESTRICT",
)


class Cohort(db.Model):
    __tablename__ = "cohorts"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "name"),
        sa.CheckConstraint("end_date >= start_date", name="dates_order"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "min_attendance_pct IS NULL OR (min_attendance_pct >= 0 AND min_attendance_pct <= 100)",
            name="min_attendance_range",
        ),
        sa.CheckConstraint("min_hours IS NULL OR min_hours >= 0", name="min_hours_positive"),
        sa.CheckConstraint("late_grace_minutes >= 0", name="grace_not_negative"),
        sa.CheckConstraint(
            "parent_cohort_id IS NULL OR parent_cohort_id <> id", name="not_own_parent"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    start_date: Mapped[date]
    end_date: Mapped[date]
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    venue: Mapped[str] = mapped_column(sa.String(250), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    country: Mapped[str | None] = mapped_column(sa.String(2))
    delivery_mode: Mapped[DeliveryMode] = mapped_column(
        str_enum(DeliveryMode, "delivery_mode"), default=DeliveryMode.IN_PERSON
    )
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    capacity: Mapped[int | None]
    language: Mapped[str] = mapped_column(sa.String(10), default="en")
    certificate_language: Mapped[CertificateLanguage] = mapped_column(
        str_enum(CertificateLanguage, "certificate_language"), default=CertificateLanguage.EN
    )
    status: Mapped[CohortStatus] = mapped_column(
        str_enum(CohortStatus, "cohort_status"), default=CohortStatus.PLANNED
    )
    # Completion rule: attendance rate and hours thresholds, plus required modules.
    min_attendance_pct: Mapped[int | None] = mapped_column(default=80)
    min_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    late_grace_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # Seats that free up (or are added) go to the waitlist, in order, without a click.
    auto_fill_waitlist: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # A national roll-out points at the training of trainers its trainers graduated from.
    parent_cohort_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="cohorts")
    parent_cohort: Mapped[Cohort | None] = relationship(remote_side=[id])
    sessions: Mapped[list[Session]] = relationship(
        back_populates="cohort", order_by="Session.starts_at"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")
    required_modules: Mapped[list[Module]] = relationship(secondary=cohort_required_modules)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Cohort {self.id} {self.name}>"


class Session(db.Model):
    """One scheduled session of a cohort, stored in UTC and shown in the cohort's time zone."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # Lets attendance records prove, in the database, that session and enrolment
        # belong to the same cohort.
        sa.UniqueConstraint("id", "cohort_id"),
        sa.Index("ix_sessions_cohort_id_starts_at", "cohort_id", "starts_at"),
        sa.Index("ix_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="RESTRICT"))
    module_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(250), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[DeliveryMode] = mapped_column(
        str_enum(DeliveryMode, "delivery_mode"), default=DeliveryMode.IN_PERSON
    )
    location: Mapped[str] = mapped_column(sa.String(250), default="")
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    module: Mapped[Module | None] = relationship()
    trainers: Mapped[list[Person]] = relationship(
        secondary=session_trainers, order_by="Person.last_name"
    )

    @hybrid_property
    def scheduled(self) -> bool:
        """Whether the session takes place (it is not cancelled); in queries,
        ``Session.scheduled``."""
        return self.status == SessionStatus.SCHEDULED

    @scheduled.inplace.expression
    @classmethod
    def _scheduled_clause(cls) -> sa.ColumnElement[bool]:
        return cls.status == SessionStatus.SCHEDULED

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        return self.module.title if self.module else ""

    @property
    def hours(self) -> Decimal:
        seconds = (self.ends_at - self.starts_at).total_seconds()
        return (Decimal(int(seconds)) / Decimal(3600)).quantize(Decimal("0.01"))

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "person_id"),
        sa.UniqueConstraint("id", "cohort_id"),
        sa.CheckConstraint(
            "(status = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
        # A person's enrolments and their cohorts from the index alone: the programme scope
        # rule (core.scope.visible_people) probes it once per person listed.
        sa.Index("ix_enrolments_person_id_cohort_id", "person_id", "cohort_id"),
        # Counts of a cohort's (or programme's) people by status from the index alone.
        sa.Index("ix_enrolments_cohort_id_status_person_id", "cohort_id", "status", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="RESTRICT"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="RESTRICT"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        str_enum(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ENROLLED
    )
    waitlist_position: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    person: Mapped[Person] = relationship(back_populates="enrolments")

    @hybrid_property
    def active(self) -> bool:
        """Whether the enrolment takes a seat and is on the attendance rosters (enrolled,
        completed or not completed: ``ACTIVE_ENROLMENT``); in queries, ``Enrolment.active``."""
        return self.status in ACTIVE_ENROLMENT

    @active.inplace.expression
    @classmethod
    def _active_clause(cls) -> sa.ColumnElement[bool]:
        return cls.status.in_(ACTIVE_ENROLMENT)

    def __repr__(self) -> str:
        return f"<Enrolment cohort={self.cohort_id} person={self.person_id} {self.status}>"


def seats_taken() -> sa.ColumnElement[int]:
    """Counted over a cohort's enrolments (an aggregate): the active ones, each taking a seat.
    Every page that counts seats counts them with this, and the waitlist with
    ``people_waiting``."""
    return sa.func.count().filter(Enrolment.active)


def people_waiting() -> sa.ColumnElement[int]:
    """Counted over a cohort's enrolments: the people on its waitlist."""
    return sa.func.count().filter(Enrolment.status == EnrolmentStatus.WAITLISTED)
