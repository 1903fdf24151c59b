"""The accounts domain's receivers of other domains' signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.accounts.models import User
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan


@signals.person_merging.connect
def merge_account(plan: MergePlan) -> None:
    """The duplicate's user account (the plan refuses a merge of two accounts) signs in as
    the kept person."""
    if plan.user is not None:
        db.session.execute(
            sa.update(User).where(User.id == plan.user.id).values(person_id=plan.keep.id),
            execution_options={"synchronize_session": False},
        )
