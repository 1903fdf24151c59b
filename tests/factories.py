"""Small factories: each makes one valid object, flushes it, and returns it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
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


def certificate(
    enrolment: Enrolment | None = None,
    *,
    actor: User | None = None,
    override_reason: str = "Issued by a test factory",
) -> Any:
    """A valid certificate issued through the service (the reason is used only when the
    completion rule does not find the enrolment eligible, e.g. with no attendance; so is the
    confirmation asked before a cohort's end)."""
    from trainingmgr.certificates import services as certificates

    return certificates.issue(
        enrolment or globals()["enrolment"](),
        override_reason=override_reason,
        confirm_before_end=True,
        actor=actor or user(),
    )


# --------------------------------------------------------------------------- programme scope
#
# A coordinator sees only the programmes they are assigned to. The coordinator signed in by
# ``login(Role.COORDINATOR)`` (conftest) is "the coordinator of every programme of the test":
# before each request of the test client, they are assigned to every programme that exists,
# so tests about something else need not assign them. A test that assigns programmes itself
# (``user.programmes.append(p)``, ``login(Role.COORDINATOR, programmes=[p])``) gets exactly
# those: touching the list outside a request turns the automatic assignment off for that user
# (and withdraws what it had added). Scope itself is tested in ``tests/test_scope.py``.


class _Everything:
    """The coordinators of every programme of the current test (reset after each test)."""

    def __init__(self) -> None:
        self.added: dict[int, set[int]] = {}  # user id -> programme ids assigned by us
        self.explicit: dict[int, set[int]] = {}  # user id -> programmes the test appended
        self.syncing = False

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


everything = _Everything()


def coordinates_everything(user: User) -> User:
    """Make ``user`` the coordinator of every programme of this test (see above)."""
    everything.added[user.id] = set()
    return user


def assign_every_programme(user: User) -> User:
    """Assign ``user`` now to every programme that exists (for committed browser tests)."""
    for programme in db.session.scalars(sa.select(Programme).order_by(Programme.id)):
        if programme not in user.programmes:
            user.programmes.append(programme)
    db.session.flush()
    return user


def sync_coordinators() -> None:
    """Before a request: the automatic coordinators get every programme that exists now; a
    user whose programmes the test set itself loses what was added automatically."""
    if not everything.added:
        return
    everything.syncing = True
    try:
        programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
        for user_id, added in everything.added.items():
            user = db.session.get(User, user_id)
            explicit = everything.explicit.get(user_id)
            if user is None:
                continue
            if explicit is None:
                for programme in programmes:
                    if programme not in user.programmes:
                        user.programmes.append(programme)
                        added.add(programme.id)
            elif added:
                for programme in list(user.programmes):
                    if programme.id in added and programme.id not in explicit:
                        user.programmes.remove(programme)
                added.clear()
        db.session.flush()
    finally:
        everything.syncing = False


def _touched(target: User, value: Any, *_args: Any) -> Any:
    from flask import has_request_context

    if everything.syncing or has_request_context() or target.id not in everything.added:
        return value
    explicit = everything.explicit.setdefault(target.id, set())
    for programme in value if isinstance(value, list) else [value]:
        if isinstance(programme, Programme) and programme.id is not None:
            explicit.add(programme.id)
    return value


sa.event.listen(User.programmes, "append", _touched, retval=True)
sa.event.listen(User.programmes, "remove", _touched)
sa.event.listen(User.programmes, "bulk_replace", _touched)
