"""A person: the one record of a human being, whatever role they play in which cohort."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.text import fold
from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db, postgresql_only

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User
    from trainingmgr.cohorts.models import Enrolment

# Labels of a person's fields: the person form's, and where fields are listed (the merge
# preview, the columns of an import).
FIELD_LABELS: dict[str, Any] = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "name_latin": _l("Name in Latin letters"),
    "email": _l("E-mail"),
    "sex": _l("Sex"),
    "country": _l("Country"),
    "organisation": _l("Organisation"),
    "position": _l("Position"),
    "phone": _l("Phone"),
    "notes": _l("Notes"),
}


class Sex(Choice):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


def search_text_of(
    first_name: str | None, last_name: str | None, name_latin: str | None, email: str | None
) -> str:
    """``Person.search_text`` for these values (folded names and e-mail, see core.text)."""
    return fold(" ".join(p for p in (first_name, last_name, name_latin, email) if p))


class Person(db.Model):
    __tablename__ = "people"
    __table_args__ = (
        sa.CheckConstraint("email IS NULL OR email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("length(first_name) + length(last_name) > 0", name="has_name"),
        sa.CheckConstraint("country IS NULL OR length(country) = 2", name="country_iso2"),
        sa.Index("ix_people_last_name_first_name", "last_name", "first_name"),
        # PostgreSQL: a trigram index answers "contains" searches (LIKE '%petrov%') without
        # reading every person; SQLite has no such index and scans.
        postgresql_only(
            sa.Index(
                "ix_people_search_text_trgm",
                "search_text",
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(120), default="")
    last_name: Mapped[str] = mapped_column(sa.String(120), default="")
    # Optional Latin spelling, printed under the name on certificates.
    name_latin: Mapped[str | None] = mapped_column(sa.String(250))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    sex: Mapped[Sex | None] = mapped_column(str_enum(Sex, "sex"))
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    organisation: Mapped[str | None] = mapped_column(sa.String(250), index=True)
    position: Mapped[str | None] = mapped_column(sa.String(250))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Folded names and e-mail, so search ignores case, accents and script (see core.text).
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    # Set when this record was merged into another; merged records are hidden from lists.
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship(back_populates="person")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="person")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def name(self) -> str:
        """As ``User.name``: how e-mails greet the person."""
        return self.full_name

    def refresh_search_text(self) -> None:
        self.search_text = search_text_of(
            self.first_name, self.last_name, self.name_latin, self.email
        )

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.full_name}>"


# The trigram index needs its extension (created by the migrations; here for create_all).
sa.event.listen(
    Person.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


@sa.event.listens_for(Person, "before_insert")
@sa.event.listens_for(Person, "before_update")
def _person_search_text(_mapper: object, _conn: object, person: Person) -> None:
    person.refresh_search_text()
    if person.email:
        person.email = person.email.strip().lower()
