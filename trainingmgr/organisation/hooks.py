"""What the organisation domain registers with core's scope check: a programme's
signatories belong to it; the organisation's default signatories (no programme) are no
coordinator's."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from trainingmgr.core import scope
from trainingmgr.organisation.models import Signatory


@scope.scoped_argument("signatory_id")
def signatory_outside(signatory_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Signatory.id == signatory_id,
        sa.or_(Signatory.programme_id.is_(None), Signatory.programme_id.not_in(sorted(ids))),
    )
