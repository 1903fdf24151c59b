"""Reading the organisation's settings and the signatories certificates print."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from trainingmgr.extensions import db
from trainingmgr.organisation.models import OrganisationSettings, Signatory


def get_settings() -> OrganisationSettings:
    """The settings row, created from the configuration's defaults the first time."""
    settings = db.session.get(OrganisationSettings, 1)
    if settings is None:
        settings = OrganisationSettings(
            id=1,
            name=current_app.config.get("ORGANISATION_NAME", "Training Centre"),
            default_timezone=current_app.config.get("DEFAULT_TIMEZONE", "UTC"),
        )
        db.session.add(settings)
        db.session.flush()
    return settings


def signatories_for(programme_id: int | None) -> list[Signatory]:
    """The programme's own signatories, or the organisation's defaults when it has none."""

    def rows(pid: int | None) -> list[Signatory]:
        cond = Signatory.programme_id.is_(None) if pid is None else Signatory.programme_id == pid
        return list(
            db.session.scalars(
                sa.select(Signatory).where(cond).order_by(Signatory.position, Signatory.id)
            )
        )

    own = rows(programme_id) if programme_id is not None else []
    return own or rows(None)
