"""What the organisation domain registers with core: for the scope check, a programme's
signatories belong to it and the organisation's default signatories (no programme) are no
coordinator's; for times, the organisation's default zone."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from trainingmgr.core import scope, timefmt
from trainingmgr.organisation.models import Signatory


@scope.scoped_argument("signatory_id")
def signatory_outside(signatory_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Signatory.id == signatory_id,
        sa.or_(Signatory.programme_id.is_(None), Signatory.programme_id.not_in(sorted(ids))),
    )


@timefmt.organisation_zone
def default_zone() -> str | None:
    from trainingmgr.organisation.services import settings_for_reading

    return getattr(settings_for_reading(), "default_timezone", None)
