"""The accounts list: the account statuses, the list's filters and its query (a fixed number
of queries whatever the number of accounts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, load_only, selectinload

from trainingmgr.accounts.models import Role, TokenPurpose, User, UserRole, UserToken
from trainingmgr.accounts.roles import (
    participant_condition,
    preload,
    trainer_condition,
)
from trainingmgr.cohorts.models import Cohort, Session, session_trainers
from trainingmgr.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from trainingmgr.core.text import fold_query
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import database_id
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Programme


class AccountStatus:
    ACTIVE = "active"
    INVITED = "invited"
    INVITATION_EXPIRED = "invitation_expired"
    INACTIVE = "inactive"


# The status filter of the list: value -> label (translated when shown).
STATUS_FILTERS = ("active", "invited", "inactive")


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class AccountFilter:
    q: str = ""
    role: Role | None = None
    status: str = ""
    programme_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> AccountFilter:
        """Filters from query arguments; values that make no sense are ignored."""
        role = args.get("role") or ""
        status = args.get("status") or ""
        return cls(
            q=(args.get("q") or "").strip()[:200],
            role=Role(role) if role in {r.value for r in Role} else None,
            status=status if status in STATUS_FILTERS else "",
            programme_id=database_id(args.get("programme")),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.role or self.status or self.programme_id)


@dataclass(frozen=True)
class AccountRow:
    user: User
    # When the newest invitation not yet used expires (None: no open invitation).
    invitation_until: datetime | None
    # For a trainer: the programmes of the sessions they teach (by code).
    taught: list[Programme] = field(default_factory=list)

    @property
    def status(self) -> str:
        return account_status(self.user, self.invitation_until)


def account_status(user: User, invitation_until: datetime | None) -> str:
    if not user.active:
        return AccountStatus.INACTIVE
    if user.password_hash is None and user.last_login_at is None and invitation_until:
        if invitation_until > utcnow():
            return AccountStatus.INVITED
        return AccountStatus.INVITATION_EXPIRED
    return AccountStatus.ACTIVE


def _open_invitation_until() -> Any:
    return (
        sa.select(sa.func.max(UserToken.expires_at))
        .where(
            UserToken.user_id == User.id,
            UserToken.purpose == TokenPurpose.INVITATION,
            UserToken.used_at.is_(None),
        )
        .correlate(User)
        .scalar_subquery()
    )


def _is_admin() -> Any:
    return User.role_rows.any(UserRole.role == Role.ADMIN)


def account_query(filters: AccountFilter) -> sa.Select[Any]:
    invitation_until = _open_invitation_until()
    query = (
        sa.select(User, invitation_until.label("invitation_until"))
        .outerjoin(Person, User.person_id == Person.id)
        .options(contains_eager(User.person), selectinload(User.programmes))
        .order_by(User.email)
    )
    for original, latin in fold_query(filters.q):
        forms = sorted({original, latin} - {""})
        query = query.where(
            sa.or_(
                *(User.email.contains(f, autoescape=True) for f in forms),
                *(sa.func.lower(User.display_name).contains(f, autoescape=True) for f in forms),
                *(Person.search_text.contains(f, autoescape=True) for f in forms),
            )
        )
    if filters.role is not None:
        # Participants and trainers are also those whose person is enrolled or teaching.
        follows = {Role.PARTICIPANT: participant_condition, Role.TRAINER: trainer_condition}
        condition = User.role_rows.any(UserRole.role == filters.role)
        if filters.role in follows:
            condition = sa.or_(condition, follows[filters.role](User.person_id))
        query = query.where(condition)
    if filters.programme_id is not None:
        query = query.where(
            sa.or_(
                User.programmes.any(Programme.id == filters.programme_id),
                sa.and_(
                    User.role_rows.any(UserRole.role == Role.TRAINER),
                    User.person_id.in_(_teaching_in(filters.programme_id)),
                ),
            )
        )
    if filters.status == "active":
        query = query.where(User.active.is_(True))
    elif filters.status == "inactive":
        query = query.where(User.active.is_(False))
    elif filters.status == "invited":
        query = query.where(
            User.active.is_(True),
            User.password_hash.is_(None),
            User.last_login_at.is_(None),
            invitation_until.is_not(None),
        )
    return query


def _teaching_in(programme_id: int) -> sa.Select[Any]:
    """The ids of the people who teach a session of the programme."""
    return (
        sa.select(session_trainers.c.person_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(Cohort.programme_id == programme_id)
    )


def programmes_taught(person_ids: Iterable[int]) -> dict[int, list[Programme]]:
    """For each person, the programmes whose sessions they teach (two queries)."""
    ids = set(person_ids)
    if not ids:
        return {}
    pairs = db.session.execute(
        sa.select(session_trainers.c.person_id, Cohort.programme_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(session_trainers.c.person_id.in_(ids))
        .distinct()
    ).all()
    programmes = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Programme)
            .where(Programme.id.in_({pid for _person, pid in pairs}))
            .options(load_only(Programme.id, Programme.code, Programme.title))
        )
    }
    taught: dict[int, list[Programme]] = {}
    for person_id, programme_id in pairs:
        taught.setdefault(person_id, []).append(programmes[programme_id])
    return {k: sorted(v, key=lambda p: p.code) for k, v in taught.items()}


def account_list(
    filters: AccountFilter, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[AccountRow]:
    """One page of accounts: a fixed number of queries whatever their number."""
    result = paginate(account_query(filters), page, per_page, scalars=False)
    preload(u.person_id for u, _until in result.items)
    trainers = [u.person_id for u, _until in result.items if u.person_id and u.has_role("trainer")]
    taught = programmes_taught(trainers)
    rows = [
        AccountRow(user, until, taught.get(user.person_id, []) if user.has_role("trainer") else [])
        for user, until in result.items
    ]
    return Page(items=rows, page=result.page, per_page=result.per_page, total=result.total)


def programme_options() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.code)))
