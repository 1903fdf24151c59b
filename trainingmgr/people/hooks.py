"""What the people domain registers with core: who is in a coordinator's scope.

People are shared between programmes: a person is in a coordinator's scope when they are
enrolled (with any status) in a cohort of one of the coordinator's programmes, teach a session
of one, or are enrolled nowhere at all (someone just added or imported stays reachable until a
coordinator enrols them). A record merged into another is in scope when the record it was
merged into is.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from trainingmgr.cohorts.models import Enrolment, Session, session_trainers
from trainingmgr.core import scope
from trainingmgr.extensions import db
from trainingmgr.people.models import Person


def _teaching_ids(cohorts: sa.Select[Any]) -> sa.Select[Any]:
    """The ids of the people teaching sessions of these cohorts."""
    return (
        sa.select(session_trainers.c.person_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .where(Session.cohort_id.in_(cohorts))
        .correlate(None)
    )


def visible_people(programme_ids: Collection[int], scan: bool) -> sa.ColumnElement[bool]:
    """A condition on ``Person``: the people in the scope of these programmes.

    Lists show a page of people (and count up to a cap), so the condition is checked for a
    few thousand people at most, each with one probe of the index on
    ``enrolments (person_id, cohort_id)``: the person's enrolments, none (enrolled nowhere) or
    one in these programmes' cohorts. The few trainers of these programmes' sessions are one
    small hashed set.

    ``scan=True`` is for queries that look at most people (filter menus, pickers, duplicate
    detection): sets of ids (everyone enrolled in these programmes, everyone enrolled
    anywhere), hashed once per query, cost less than 100,000 probes, and more than a page.
    """
    cohorts = scope.scope_cohort_ids(programme_ids)
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


def people_found(person_ids: Collection[int], programme_ids: Collection[int] | None) -> set[int]:
    """Those of ``person_ids`` that exist and are in the scope of these programmes."""
    return set(
        db.session.scalars(
            sa.select(Person.id).where(
                Person.id.in_(sorted(person_ids)), scope.visible_people(programme_ids)
            )
        )
    )


@scope.scoped_argument("person_id")
def person_outside(person_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(Person.id == person_id, ~scope.visible_people(ids))


scope.provide("visible_people", visible_people)
scope.provide("people_found", people_found)
