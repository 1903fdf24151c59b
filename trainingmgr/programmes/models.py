"""A programme (diploma, online course series, training of trainers...) and its curriculum."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.cohorts.models import Cohort


class ProgrammeKind(Choice):
    DIPLOMA = "diploma"
    ONLINE_COURSE = "online_course"
    TRAINING_OF_TRAINERS = "training_of_trainers"
    ROLLOUT = "rollout"
    WORKSHOP = "workshop"


class ProgrammeStatus(Choice):
    ACTIVE = "active"
    ARCHIVED = "archived"


class PartnerRole(Choice):
    PARTNER = "partner"
    FUNDER = "funder"


class CertificateLanguage(Choice):
    EN = "en"
    RU = "ru"
    AZ = "az"
    EN_RU = "en+ru"
    EN_AZ = "en+az"


class Programme(db.Model):
    __tablename__ = "programmes"
    __table_args__ = (
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="period_order",
        ),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        sa.CheckConstraint(
            "default_min_attendance_pct IS NULL OR "
            "(default_min_attendance_pct >= 0 AND default_min_attendance_pct <= 100)",
            name="min_attendance_range",
        ),
        sa.CheckConstraint(
            "default_min_hours IS NULL OR default_min_hours >= 0", name="min_hours_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    title: Mapped[str] = mapped_column(sa.String(250))
    kind: Mapped[ProgrammeKind] = mapped_column(str_enum(ProgrammeKind, "programme_kind"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ProgrammeStatus] = mapped_column(
        str_enum(ProgrammeStatus, "programme_status"), default=ProgrammeStatus.ACTIVE
    )
    budget: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    # ISO 3166 alpha-2 codes, comma separated ("AZ,GE,TR"); regions are free text.
    target_countries: Mapped[str] = mapped_column(sa.String(1000), default="")
    target_regions: Mapped[str] = mapped_column(sa.String(500), default="")
    # Completion defaults taken by new cohorts.
    default_min_attendance_pct: Mapped[int | None] = mapped_column(default=80)
    default_min_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    default_certificate_language: Mapped[CertificateLanguage] = mapped_column(
        str_enum(CertificateLanguage, "certificate_language"), default=CertificateLanguage.EN
    )
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    logo_mimetype: Mapped[str | None] = mapped_column(sa.String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partners: Mapped[list[ProgrammePartner]] = relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by="ProgrammePartner.position",
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="Module.position"
    )
    cohorts: Mapped[list[Cohort]] = relationship(back_populates="programme")

    @property
    def country_codes(self) -> list[str]:
        return [c for c in self.target_countries.split(",") if c]

    def __repr__(self) -> str:
        return f"<Programme {self.code}>"


class ProgrammePartner(db.Model):
    """A partner or funder of a programme; funders may have a share of the funding."""

    __tablename__ = "programme_partners"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "name", "role"),
        sa.CheckConstraint(
            "funding_share IS NULL OR (funding_share > 0 AND funding_share <= 100)",
            name="funding_share_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(250))
    role: Mapped[PartnerRole] = mapped_column(str_enum(PartnerRole, "partner_role"))
    funding_share: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    position: Mapped[int] = mapped_column(default=0)
    # A funder's logo, printed in the funders' band of certificates issued afterwards.
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    logo_mimetype: Mapped[str | None] = mapped_column(sa.String(30))
    # The funder is the European Union: certificates print the EU emblem with "Funded by the
    # European Union" (the EU's visibility rules) instead of a logo.
    european_union: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    programme: Mapped[Programme] = relationship(back_populates="partners")


class Module(db.Model):
    """A curriculum module of a programme. Modules used by sessions are retired, not deleted."""

    __tablename__ = "modules"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "code"),
        sa.CheckConstraint("hours >= 0", name="hours_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(250))
    competence_area: Mapped[str] = mapped_column(sa.String(250), default="")
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal("0"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    programme: Mapped[Programme] = relationship(back_populates="modules")

    def __repr__(self) -> str:
        return f"<Module {self.code}>"
