"""The accounts domain's receivers of other domains' signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people import signals
from trainingmgr.people.models import Person

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan


@signals.person_merge_planning.connect
def plan_account(plan: MergePlan) -> None:
    """The duplicate's user account moves; refused when both records have one."""
    keep, duplicate = plan.keep.id, plan.duplicate.id
    users = {
        u.person_id: u
        for u in db.session.scalars(sa.select(User).where(User.person_id.in_([keep, duplicate])))
    }
    if keep in users and duplicate in users:
        raise DomainError(
            _(
                "Both records have a user account (%(kept)s and %(other)s). A person has one "
                "account: deactivate or unlink one of them first, then merge.",
                kept=users[keep].email,
                other=users[duplicate].email,
            )
        )
    plan.user = users.get(duplicate)


@signals.person_merging.connect
def merge_account(plan: MergePlan) -> None:
    """The duplicate's user account (the plan refuses a merge of two accounts) signs in as
    the kept person."""
    if plan.user is not None:
        db.session.execute(
            sa.update(User).where(User.id == plan.user.id).values(person_id=plan.keep.id),
            execution_options={"synchronize_session": False},
        )


@signals.addresses_given.connect
def link_accounts(person_ids: list[int], *, actor: User | None) -> None:
    """Give each account that has no person record the person among ``person_ids`` with its
    e-mail address, when that person has no account (audited as an administrator's link is).

    The reverse of an invitation, which takes the person record already there: a trainer or
    participant invited before being in the directory gets their sessions and enrolments once
    a coordinator adds them (by hand or by an import)."""
    linked = sa.exists().where(User.person_id == Person.id)
    pairs = db.session.execute(
        sa.select(User, Person.id)
        .join(Person, Person.email == User.email)
        .where(
            Person.id.in_(person_ids),
            Person.merged_into_id.is_(None),
            User.person_id.is_(None),
            ~linked.correlate(Person),
        )
    ).all()
    if not pairs:
        return
    for user, person_id in pairs:
        user.person_id = person_id
    db.session.flush()
    audit.record_many(
        [
            {"obj": user, "changes": {"person_id": [None, pid]}, "summary": user.email}
            for user, pid in pairs
        ],
        action="user.person",
        actor=actor,
    )
