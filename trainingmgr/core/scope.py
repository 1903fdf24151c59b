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
  by their domain with ``@scoped_argument(name)`` in its ``hooks.py`` (``tests/test_scope.py``
  fails for undeclared ones).

This module imports no domain: each domain registers its URL arguments and rules (the people
domain the rule of who is visible, the cohorts domain which cohorts a programme has) from its
``hooks`` module, which ``trainingmgr.HOOKS`` lists.
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

from trainingmgr.core.permissions import ANY_SIGNED_IN
from trainingmgr.core.roles import Role
from trainingmgr.core.users import Visitor
from trainingmgr.extensions import db


def managed_programme_ids(user: Visitor | None = None) -> set[int] | None:
    """The ids of the programmes ``user`` coordinates; ``None`` means all (an admin)."""
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.COORDINATOR):
        return set()
    return user.coordinated_programme_ids()


def can_manage_programme(programme_id: int | None, user: Visitor | None = None) -> bool:
    ids = managed_programme_ids(user)
    return ids is None or (programme_id is not None and programme_id in ids)


def require_programme(programme_id: int | None, user: Visitor | None = None) -> None:
    """404 unless ``user`` (default: the current user) may manage the programme."""
    if not can_manage_programme(programme_id, user):
        abort(404)


# --------------------------------------------------------------------------- domain rules

# The domains register what the scope check needs (their ``hooks`` modules, listed in
# ``trainingmgr.HOOKS``): core knows no domain's models.
# - ``SCOPED_ARGUMENTS``: for each URL argument naming an object, a condition that is true when
#   the object exists and belongs to none of the given programmes (``scoped_argument``).
# - ``RULES``: named rules (``provide``): "cohort_ids" (the cohorts of some programmes, a
#   subquery), "visible_people" (a condition on people) and "people_found" (which of some
#   person ids exist and are in scope).
Outside = Callable[[int, Collection[int]], sa.ColumnElement[bool]]

SCOPED_ARGUMENTS: dict[str, Outside | None] = {"programme_id": None}
RULES: dict[str, Callable[..., Any]] = {}


def scoped_argument(name: str) -> Callable[[Outside], Outside]:
    """Declare the URL argument ``name`` (decorating its "outside these programmes" rule)."""

    def register(outside: Outside) -> Outside:
        if name in SCOPED_ARGUMENTS:
            raise RuntimeError(f"the URL argument {name} is declared twice")
        SCOPED_ARGUMENTS[name] = outside
        return outside

    return register


def provide(name: str, rule: Callable[..., Any]) -> None:
    """A domain provides the named scope rule (once)."""
    if name in RULES:
        raise RuntimeError(f"the scope rule {name} is provided twice")
    RULES[name] = rule


def _rule(name: str) -> Callable[..., Any]:
    try:
        return RULES[name]
    except KeyError:
        raise RuntimeError(f"no domain provides the scope rule {name}") from None


def in_programmes(column: Any, programme_ids: Collection[int] | None) -> sa.ColumnElement[bool]:
    """``column`` (a programme id) is one of ``programme_ids`` (always true when None: every
    programme, as ``managed_programme_ids`` says for administrators)."""
    return sa.true() if programme_ids is None else column.in_(sorted(programme_ids))


def scope_cohort_ids(programme_ids: Collection[int]) -> sa.Select[Any]:
    """The ids of these programmes' cohorts, as an uncorrelated subquery."""
    return _rule("cohort_ids")(programme_ids)  # type: ignore[no-any-return]


def visible_people(
    programme_ids: Collection[int] | None, *, scan: bool = False
) -> sa.ColumnElement[bool]:
    """A condition on ``Person``: the people in the scope of these programmes (all: None).
    The rule is the people domain's (``people/hooks.py`` says which people and how the
    query is planned; ``scan=True`` for queries that look at most people)."""
    if programme_ids is None:
        return sa.true()
    return _rule("visible_people")(programme_ids, scan)  # type: ignore[no-any-return]


def people_outside_scope(person_ids: Iterable[int], user: Visitor | None = None) -> set[int]:
    """Those of ``person_ids`` that do not exist or are outside ``user``'s scope."""
    wanted = set(person_ids)
    if not wanted:
        return set()
    found = _rule("people_found")(wanted, managed_programme_ids(user))
    return wanted - set(found)


def person_in_scope(person_id: int | None, user: Visitor | None = None) -> bool:
    """Whether the person exists and is in ``user``'s scope (one query)."""
    if person_id is None:
        return False
    return not people_outside_scope([person_id], user)


def require_person(person_id: int | None, user: Visitor | None = None) -> None:
    """404 unless the person is in ``user``'s (default: the current user's) scope."""
    if not person_in_scope(person_id, user):
        abort(404)


# --------------------------------------------------------------------------- URL arguments


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


def acts_as_coordinator(user: Visitor, access: Any) -> bool:
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
