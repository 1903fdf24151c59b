"""What the programmes domain registers with core's scope check: partners and modules belong
to their programme."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from trainingmgr.core import scope
from trainingmgr.programmes.models import Module, ProgrammePartner


@scope.scoped_argument("partner_id")
def partner_outside(partner_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        ProgrammePartner.id == partner_id, ProgrammePartner.programme_id.not_in(sorted(ids))
    )


@scope.scoped_argument("module_id")
def module_outside(module_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(Module.id == module_id, Module.programme_id.not_in(sorted(ids)))
