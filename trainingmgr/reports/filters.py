"""The dashboard's selection: the filters, their conditions on the cohorts and the choices
offered in the filter form.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from trainingmgr.cohorts.models import (
    Cohort,
)
from trainingmgr.core.scope import in_programmes
from trainingmgr.extensions import db
from trainingmgr.programmes.models import (
    PartnerRole,
    Programme,
    ProgrammePartner,
)


@dataclass(frozen=True)
class Filters:
    """What the dashboard and the donor report show (empty: everything in scope)."""

    programme_id: int | None = None
    cohort_id: int | None = None
    funder: str = ""
    start: date | None = None  # cohorts starting on or after this day
    end: date | None = None  # cohorts starting on or before this day

    def query_args(self) -> dict[str, Any]:
        """The filters as query-string arguments (links to the exports, the cascade...)."""
        args: dict[str, Any] = {
            "programme": self.programme_id,
            "cohort": self.cohort_id,
            "funder": self.funder,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in args.items() if v}


def _selection(filters: Filters, programme_ids: Collection[int] | None) -> list[sa.ColumnElement]:
    conditions: list[sa.ColumnElement] = [in_programmes(Cohort.programme_id, programme_ids)]
    if filters.programme_id is not None:
        conditions.append(Cohort.programme_id == filters.programme_id)
    if filters.cohort_id is not None:
        conditions.append(Cohort.id == filters.cohort_id)
    if filters.funder:
        conditions.append(
            Cohort.programme_id.in_(
                sa.select(ProgrammePartner.programme_id).where(
                    ProgrammePartner.role == PartnerRole.FUNDER,
                    ProgrammePartner.name == filters.funder,
                )
            )
        )
    if filters.start is not None:
        conditions.append(Cohort.start_date >= filters.start)
    if filters.end is not None:
        conditions.append(Cohort.start_date <= filters.end)
    return conditions


def programme_choices(programme_ids: Collection[int] | None) -> list[Programme]:
    """The programmes a viewer may report on (one query)."""
    stmt = (
        sa.select(Programme)
        .where(in_programmes(Programme.id, programme_ids))
        .order_by(Programme.code)
    )
    return list(db.session.scalars(stmt))


def funder_choices(programme_ids: Collection[int] | None) -> list[str]:
    """The funders named by the programmes a viewer may report on (one query)."""
    stmt = (
        sa.select(ProgrammePartner.name)
        .where(
            ProgrammePartner.role == PartnerRole.FUNDER,
            in_programmes(ProgrammePartner.programme_id, programme_ids),
        )
        .distinct()
        .order_by(ProgrammePartner.name)
    )
    return list(db.session.scalars(stmt))


def cohort_choices(
    programme_ids: Collection[int] | None, programme_id: int | None = None
) -> list[tuple[int, str]]:
    """(id, "CODE · name") of the cohorts a viewer may report on (one query)."""
    stmt = (
        sa.select(Cohort.id, Programme.code, Cohort.name)
        .join(Programme, Programme.id == Cohort.programme_id)
        .where(in_programmes(Cohort.programme_id, programme_ids))
        .order_by(Programme.code, Cohort.start_date.desc(), Cohort.name)
    )
    if programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == programme_id)
    return [(cid, f"{code} · {name}") for cid, code, name in db.session.execute(stmt)]
