"""Programme scope: which programmes a coordinator may see and change.

Administrators see everything. A coordinator sees the programmes they are assigned to
(``coordinator_programmes``), and through them those programmes' cohorts, sessions,
enrolments, attendance and certificates. Views load objects through these checks and answer
404 for an object outside the user's scope (its existence is not revealed).

People are shared between programmes, so a person is in a coordinator's scope when they are
enrolled (with any status) in a cohort of one of the coordinator's programmes, teach a session
of one, or are enrolled nowhere at all: someone just added or imported into the directory stays
reachable until a coordinator enrols them (``visible_people``). A record merged into another
is in scope when the record it was merged into is.

Two layers apply the rule:

- ``check_request_scope``, run before every request (``create_app`` registers it), looks at
  the URL's arguments of coordinator-level views (``programme_id``, ``cohort_id``,
  ``session_id``, ``enrolment_id``, ``person_id``, ... see ``SCOPED_ARGUMENTS``) and answers
  404 when one names an object outside the user's scope, in one query whatever the number of
  arguments. Views do not have to remember it; routes with new kinds of ids must be declared
  in ``SCOPED_ARGUMENTS`` (``tests/test_scope.py`` fails for undeclared ones).
- Lists and pickers filter with ``managed_programme_ids(user)`` (``None``: no filter) and
  ``visible_people``; views that take ids from forms or query strings check them with
  ``require_programme`` / ``require_person``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy.orm import aliased

from trainingmgr.core.permissions import ANY_SIGNED_IN
from trainingmgr.core.roles import Role
from trainingmgr.extensions import db


def managed_programme_ids(user: Any = None) -> set[int] | None:
    """The ids of the programmes ``user`` coordinates; ``None`` means all (an admin)."""
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.COORDINATOR):
        return set()
    return {p.id for p in user.programmes}


def can_manage_programme(programme_id: int | None, user: Any = None) -> bool:
    ids = managed_programme_ids(user)
    return ids is None or (programme_id is not None and programme_id in ids)


def require_programme(programme_id: int | None, user: Any = None) -> None:
    """404 unless ``user`` (default: the current user) may manage the programme."""
    if not can_manage_programme(programme_id, user):
        abort(404)


def assign(user: Any, programme: Any) -> None:
    """Make ``user`` a coordinator of ``programme`` (nothing happens if they already are)."""
    if programme not in user.programmes:
        user.programmes.append(programme)


# --------------------------------------------------------------------------- people


def scope_cohort_ids(programme_ids: Collection[int]) -> sa.Select[Any]:
    """The ids of these programmes' cohorts, as an uncorrelated subquery."""
    from trainingmgr.cohorts.models import Cohort

    # Never correlated: the enclosing query may itself select from this table.
    return (
        sa.select(Cohort.id).where(Cohort.programme_id.in_(sorted(programme_ids))).correlate(None)
    )


def _teaching_ids(cohorts: sa.Select[Any]) -> sa.Select[Any]:
    """The ids of the people teaching sessions of these cohorts."""
    from trainingmgr.cohorts.models import Session, session_trainers

    return (
        sa.select(session_trainers.c.person_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .where(Session.cohort_id.in_(cohorts))
        .correlate(None)
    )


def visible_people(
    programme_ids: Collection[int] | None, *, scan: bool = False
) -> sa.ColumnElement[bool]:
    """A condition on ``Person``: the people in the scope of these programmes (all: None).

    Lists show a page of people (and count up to a cap), so the condition is checked for a
    few thousand people at most, each with one probe of the index on
    ``enrolments (person_id, cohort_id)``: the person's enrolments, none (enrolled nowhere) or
    one in these programmes' cohorts. The few trainers of these programmes' sessions are one
    small hashed set.

    ``scan=True`` is for queries that look at most people (filter menus, pickers, duplicate
    detection): sets of ids (everyone enrolled in these programmes, everyone enrolled
    anywhere), hashed once per query, cost less than 100,000 probes, and more than a page.
    """
    from trainingmgr.cohorts.models import Enrolment
    from trainingmgr.people.models import Person

    if programme_ids is None:
        return sa.true()
    cohorts = scope_cohort_ids(programme_ids)
    # A record merged into another is in scope when the record it was merged into is.
    person_id = sa.func.coalesce(Person.merged_into_id, Person.id)
    if scan:
        enrolled_here = sa.select(Enrolment.person_id).where(Enrolment.cohort_id.in_(cohorts))
        anywhere = aliased(Enrolment)
        return sa.or_(
            person_id.in_(sa.union(enrolled_here.correlate(None), _teaching_ids(cohorts))),
            # NOT EXISTS, not NOT IN: hashed when that fits in memory, else probed per person.
            ~sa.exists().where(anywhere.person_id == person_id),
        )
    own = aliased(Enrolment)
    # 1 when an enrolment is in these programmes, 0 when all are elsewhere, NULL when none:
    # an aggregate, so PostgreSQL probes the index per person instead of hashing the table.
    enrolled_here_or_nowhere = (
        sa.select(sa.func.max(sa.case((own.cohort_id.in_(cohorts), 1), else_=0)))
        .where(own.person_id == person_id)
        .scalar_subquery()
    )
    return sa.or_(
        sa.func.coalesce(enrolled_here_or_nowhere, 1) == 1,
        person_id.in_(_teaching_ids(cohorts)),
    )


def person_in_scope(person_id: int | None, user: Any = None) -> bool:
    """Whether the person exists and is in ``user``'s scope (one query; none for admins)."""
    from trainingmgr.people.models import Person

    if person_id is None:
        return False
    ids = managed_programme_ids(user)
    condition = visible_people(ids)
    return bool(db.session.scalar(sa.select(sa.exists().where(Person.id == person_id, condition))))


def require_person(person_id: int | None, user: Any = None) -> None:
    """404 unless the person is in ``user``'s (default: the current user's) scope."""
    if not person_in_scope(person_id, user):
        abort(404)


def people_outside_scope(person_ids: Iterable[int], user: Any = None) -> set[int]:
    """Those of ``person_ids`` that do not exist or are outside ``user``'s scope."""
    from trainingmgr.people.models import Person

    wanted = set(person_ids)
    if not wanted:
        return set()
    ids = managed_programme_ids(user)
    found = set(
        db.session.scalars(
            sa.select(Person.id).where(Person.id.in_(sorted(wanted)), visible_people(ids))
        )
    )
    return wanted - found


# --------------------------------------------------------------------------- URL arguments

# For each URL argument naming an object: a condition that is true when the object exists and
# belongs to none of the given programmes. (``programme_id`` needs no query.)
Outside = Callable[[int, Collection[int]], sa.ColumnElement[bool]]


def _cohort_outside(cohort_id: Any, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.cohorts.models import Cohort

    return sa.exists().where(Cohort.id == cohort_id, Cohort.programme_id.not_in(sorted(ids)))


def _session_outside(session_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.cohorts.models import Session

    return sa.exists().where(Session.id == session_id, _cohort_outside(Session.cohort_id, ids))


def _enrolment_outside(enrolment_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.cohorts.models import Enrolment

    return sa.exists().where(
        Enrolment.id == enrolment_id, _cohort_outside(Enrolment.cohort_id, ids)
    )


def _certificate_outside(certificate_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.certificates.models import Certificate

    return sa.exists().where(
        Certificate.id == certificate_id, _cohort_outside(Certificate.cohort_id, ids)
    )


def _partner_outside(partner_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.programmes.models import ProgrammePartner

    return sa.exists().where(
        ProgrammePartner.id == partner_id, ProgrammePartner.programme_id.not_in(sorted(ids))
    )


def _module_outside(module_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.programmes.models import Module

    return sa.exists().where(Module.id == module_id, Module.programme_id.not_in(sorted(ids)))


def _signatory_outside(signatory_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    # The organisation's default signatories (no programme) are no coordinator's.
    from trainingmgr.organisation.models import Signatory

    return sa.exists().where(
        Signatory.id == signatory_id,
        sa.or_(Signatory.programme_id.is_(None), Signatory.programme_id.not_in(sorted(ids))),
    )


def _question_outside(question_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.evaluations.models import Evaluation, Question

    return sa.exists().where(
        Question.id == question_id,
        Evaluation.id == Question.evaluation_id,
        _cohort_outside(Evaluation.cohort_id, ids),
    )


def _person_outside(person_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    from trainingmgr.people.models import Person

    return sa.exists().where(Person.id == person_id, ~visible_people(ids))


SCOPED_ARGUMENTS: dict[str, Outside | None] = {
    "programme_id": None,
    "cohort_id": _cohort_outside,
    "session_id": _session_outside,
    "enrolment_id": _enrolment_outside,
    "certificate_id": _certificate_outside,
    "partner_id": _partner_outside,
    "module_id": _module_outside,
    "signatory_id": _signatory_outside,
    "person_id": _person_outside,
    "question_id": _question_outside,
}


def outside_scope(arguments: Mapping[str, Any], programme_ids: Collection[int]) -> bool:
    """Whether one of the URL ``arguments`` names an object outside these programmes.

    At most one query, whatever the number of arguments; objects that do not exist are left
    to the view (which answers 404 for them anyway).
    """
    conditions = []
    for name, value in arguments.items():
        if name not in SCOPED_ARGUMENTS or isinstance(value, bool) or not isinstance(value, int):
            continue
        outside = SCOPED_ARGUMENTS[name]
        if outside is None:  # programme_id
            if value not in programme_ids:
                return True
            continue
        conditions.append(outside(value, programme_ids))
    if not conditions:
        return False
    return bool(db.session.scalar(sa.select(sa.or_(*conditions))))


def is_coordinator_level(access: Any) -> bool:
    """Views a coordinator may use (not the ones every signed-in user may use)."""
    return isinstance(access, frozenset) and Role.COORDINATOR in access and access != ANY_SIGNED_IN


def acts_as_coordinator(user: Any, access: Any) -> bool:
    """Whether ``user`` can use a view with ``access`` only as a coordinator of programmes.

    Administrators are never limited. A user who may also use the view through another role
    (a coordinator who is a trainer, on the attendance pages) is left to the view's own
    object checks, which know both rules.
    """
    if not is_coordinator_level(access) or not getattr(user, "is_authenticated", False):
        return False
    roles = user.roles
    if Role.ADMIN in roles or Role.COORDINATOR not in roles:
        return False
    return not (roles & (access - {Role.COORDINATOR}))


def check_request_scope() -> None:
    """``before_request``: 404 when a coordinator-level URL names another programme's object."""
    if not request.view_args or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    access = getattr(view, "access", None)
    if not acts_as_coordinator(current_user, access):  # static files do not load the user
        return
    programme_ids = managed_programme_ids(current_user) or set()
    if outside_scope(request.view_args, programme_ids):
        abort(404)
