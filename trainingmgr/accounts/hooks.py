"""The accounts domain's receivers of other domains' signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people import signals

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
