"""Small factories: each makes one valid object, flushes it, and returns it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.security import generate_password_hash

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Session
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Module, Programme, ProgrammeKind

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def _save(obj: Any) -> Any:
    db.session.add(obj)
    db.session.flush()
    return obj


def person(**kw: Any) -> Person:
    n = _n()
    kw.setdefault("first_name", f"Test{n}")
    kw.setdefault("last_name", "Person")
    kw.setdefault("email", f"person{n}@example.org")
    kw.setdefault("country", "AZ")
    return _save(Person(**kw))


def user(
    role: Role | str = Role.COORDINATOR, *, roles: list[Role] | None = None, **kw: Any
) -> User:
    n = _n()
    kw.setdefault("email", f"user{n}@example.org")
    kw.setdefault("password_hash", _PASSWORD_HASH)
    role_list = roles or [Role(role)]
    if (
        kw.get("person") is None
        and kw.get("person_id") is None
        and (Role.TRAINER in role_list or Role.PARTICIPANT in role_list)
    ):
        kw["person"] = person(email=kw["email"])
    return _save(User(role_rows=[UserRole(role=r) for r in role_list], **kw))


def programme(**kw: Any) -> Programme:
    n = _n()
    kw.setdefault("code", f"P{n}")
    kw.setdefault("title", f"Programme {n}")
    kw.setdefault("kind", ProgrammeKind.WORKSHOP)
    return _save(Programme(**kw))


def module(programme: Programme | None = None, **kw: Any) -> Module:
    n = _n()
    kw.setdefault("code", f"M{n}")
    kw.setdefault("title", f"Module {n}")
    kw.setdefault("hours", Decimal("3"))
    return _save(Module(programme=programme or globals()["programme"](), **kw))


def cohort(programme: Programme | None = None, **kw: Any) -> Cohort:
    n = _n()
    kw.setdefault("name", f"Cohort {n}")
    kw.setdefault("start_date", date(2026, 3, 2))
    kw.setdefault("end_date", date(2026, 3, 13))
    kw.setdefault("timezone", "Asia/Baku")
    return _save(Cohort(programme=programme or globals()["programme"](), **kw))


def session(cohort: Cohort | None = None, **kw: Any) -> Session:
    c = cohort or globals()["cohort"]()
    kw.setdefault("starts_at", datetime(2026, 3, 2, 5, 0, tzinfo=UTC) + timedelta(days=_n() % 10))
    kw.setdefault("ends_at", kw["starts_at"] + timedelta(hours=3))
    kw.setdefault("title", "Session")
    return _save(Session(cohort=c, **kw))


def enrolment(cohort: Cohort | None = None, person: Person | None = None, **kw: Any) -> Enrolment:
    kw.setdefault("status", EnrolmentStatus.ENROLLED)
    return _save(
        Enrolment(
            cohort=cohort or globals()["cohort"](),
            person=person or globals()["person"](),
            **kw,
        )
    )


def attendance(
    session: Session,
    enrolment: Enrolment,
    status: AttendanceStatus = AttendanceStatus.PRESENT,
    **kw: Any,
) -> AttendanceRecord:
    return _save(
        AttendanceRecord(
            session_id=session.id,
            enrolment_id=enrolment.id,
            cohort_id=session.cohort_id,
            status=status,
            **kw,
        )
    )
