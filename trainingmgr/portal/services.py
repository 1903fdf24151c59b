"""The participant portal: signing in by e-mailed link, the profile (time zone, language) and
the private calendar feed.

Sign-in links are one-time tokens (``accounts.tokens``, purpose ``SIGN_IN``): good once, for
``SIGN_IN_LINK_MINUTES``, and only while the account's ``auth_version`` is unchanged (a new
e-mail or password ends them). Asking for a link never tells whether the address has an
account. Functions here never commit: views do.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserToken
from trainingmgr.accounts.roles import person_roles
from trainingmgr.accounts.services import create_user, get_user_by_email, normalise_email
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.calendar import CalendarFile, build_calendar
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.timefmt import current_name, current_timezones, is_valid_timezone
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import external_url, safe_next
from trainingmgr.extensions import db
from trainingmgr.mail import services as mail
from trainingmgr.people.models import Person

# Languages a user may choose for pages and e-mails, with their names in themselves.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "az": "Azərbaycanca"}
# Regions of the IANA names offered in the time zone list (plus "UTC").
ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
CALENDAR_TOKEN_BYTES = 32


# --------------------------------------------------------------------------- sign-in links


# Links e-mailed by a coordinator ("access links") and in enrolment confirmations are read
# days later: they are good this long (still once only).
ACCESS_LINK_DAYS = 14


def person_locale(person_id: int | None) -> str | None:
    """The language of the person's latest cohort (its first, for a bilingual one)."""
    if person_id is None:
        return None
    language = db.session.scalar(
        sa.select(Cohort.language)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == person_id)
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
        .limit(1)
    )
    # A bilingual cohort ("en+ru") writes to its participants in its first language.
    return language.split("+")[0] if language else None


def mail_locale(user: User) -> str | None:
    """The language of e-mails to ``user``: their own choice, else their latest cohort's."""
    return user.locale or person_locale(user.person_id)


@dataclass(frozen=True)
class LinkHolder:
    """Who a sign-in link is for: an active account, or a person who has none yet."""

    user: User | None
    person: Person | None

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person is not None else None


def link_holder(person: Person | None, user: User | None = None) -> LinkHolder | None:
    """Who may get a sign-in link: an active account (``user``, or ``person``'s), or a person
    without an account who is enrolled or teaching (``accounts.roles``). None otherwise: a
    deactivated account stays deactivated; an unknown person gets nothing."""
    if user is None and person is not None:
        user = person.user
    if user is not None:
        return LinkHolder(user, person or user.person) if user.active else None
    if person is None or person.merged_into_id is not None or not person.email:
        return None
    return LinkHolder(None, person) if person_roles(person.id) else None


def person_by_email(email: str) -> Person | None:
    return db.session.scalar(
        sa.select(Person).where(
            Person.email == normalise_email(email), Person.merged_into_id.is_(None)
        )
    )


def holder_for_address(email: str) -> LinkHolder | None:
    """Who a sign-in link asked for with ``email`` goes to (see ``link_holder``)."""
    user = get_user_by_email(email)
    if user is not None:
        return link_holder(user.person, user)
    return link_holder(person_by_email(email))


def sign_in_url(token: str, next_path: str | None = None) -> str:
    """The absolute address of a sign-in link, going on to ``next_path`` (a path of this
    site) once used."""
    target = safe_next(next_path)
    if target:
        return external_url("portal.use_link", token=token, next=target)
    return external_url("portal.use_link", token=token)


def make_sign_in_url(
    holder: LinkHolder,
    lifetime: timedelta,
    *,
    next_path: str | None = None,
    actor: User | None = None,
) -> str:
    """A new one-time sign-in link for ``holder`` (the caller commits)."""
    if holder.user is not None:
        token = tokens.make_token(holder.user, TokenPurpose.SIGN_IN, lifetime, actor=actor)
    else:
        assert holder.person is not None
        token = tokens.make_person_token(holder.person, lifetime, actor=actor)
    return sign_in_url(token, next_path)


def access_urls(
    people: Iterable[Person],
    *,
    next_path: str | None = None,
    actor: User | None = None,
    lifetime: timedelta | None = None,
    accounts: dict[int, User] | None = None,
) -> dict[int, str]:
    """A new sign-in link (good ``ACCESS_LINK_DAYS``) for each person with an e-mail address
    who may have one: their active account's, or one creating their account. People whose
    account is deactivated get none. One query (none when the caller gives the people's
    ``accounts``), whatever the number of people; the people are taken to be enrolled or
    teaching (the caller's reason to write to them)."""
    lifetime = lifetime or timedelta(days=ACCESS_LINK_DAYS)
    wanted = {p.id: p for p in people if p.email and p.merged_into_id is None}
    if not wanted:
        return {}
    users = accounts
    if users is None:
        users = {
            u.person_id: u
            for u in db.session.scalars(sa.select(User).where(User.person_id.in_(sorted(wanted))))
            if u.person_id is not None
        }
    urls, rows = {}, []
    for person_id, person in wanted.items():
        user = users.get(person_id)
        if user is not None and not user.active:
            continue
        token, values = tokens.token_values(
            TokenPurpose.SIGN_IN, lifetime, user=user, person=person, actor=actor
        )
        rows.append(values)
        urls[person_id] = sign_in_url(token, next_path)
    tokens.insert_tokens(rows)  # one statement for every link, whatever the number
    return urls


def request_sign_in_link(
    email: str, *, next_path: str | None = None, ip: str | None = None
) -> bool:
    """E-mail a sign-in link to the active account with this address, or to the enrolled (or
    teaching) person with this address who has no account yet (using the link creates it).

    Returns whether a link was queued. The answer is for tests and logs only: the page shown
    must be the same either way, so nobody can learn which addresses are known.
    """
    holder = holder_for_address(email)
    if holder is None:
        return False
    minutes = int(current_app.config["SIGN_IN_LINK_MINUTES"])
    url = make_sign_in_url(holder, timedelta(minutes=minutes), next_path=next_path)
    user, person = holder.user, holder.person
    if user is not None:
        to = mail.user_address(user)
        if person is not None and person.email == normalise_email(email) != user.email:
            to = mail.address(person.full_name, person.email)
        locale = mail_locale(user)
    else:
        assert person is not None and person.email
        to = mail.address(person.full_name, person.email)
        locale = person_locale(person.id)
    mail.send(
        "sign_in_link",
        to,
        {"user": user or person, "url": url, "minutes": minutes},
        locale=locale,
        user_id=user.id if user is not None else None,
    )
    audit.record(
        "auth.sign_in_link",
        obj=user if user is not None else person,
        summary=normalise_email(email)[:200],
        ip=ip,
    )
    return True


def check_sign_in_link(token: str) -> User | Person:
    """Who a sign-in link signs in, without using it: the account, or the person whose
    account it creates (DomainError saying why not)."""
    row = tokens.peek(token, TokenPurpose.SIGN_IN)
    if row.user is not None:
        return row.user
    assert row.person is not None
    holder = link_holder(row.person)
    if holder is None:
        raise DomainError(_("This link is no longer valid. Ask for a new one."))
    return holder.user or row.person


def _account_of(person: Person, *, ip: str | None) -> User:
    """The person's account, created now if they have none (their first sign-in)."""
    user = db.session.scalar(
        sa.select(User).where(User.person_id == person.id).execution_options(populate_existing=True)
    )
    if user is None and person.email:
        user = get_user_by_email(person.email)
        if user is not None and user.person_id not in (None, person.id):
            user = None
            raise DomainError(_("This link is no longer valid. Ask for a new one."))
    if user is not None:
        if not user.active:
            raise DomainError(_("This link is no longer valid. Ask for a new one."))
        if user.person_id is None:
            user.person_id = person.id
        return user
    roles = person_roles(person.id)
    if not roles or not person.email:
        raise DomainError(_("This link is no longer valid. Ask for a new one."))
    try:
        with db.session.begin_nested():
            user = create_user(person.email, [], person_id=person.id)
    except IntegrityError:
        # Someone else's first sign-in created the account a moment ago.
        user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
        if user is None or not user.active:
            raise DomainError(_("This link is no longer valid. Ask for a new one.")) from None
        return user
    audit.record(
        "user.created_by_link",
        actor=user,
        obj=user,
        changes={"person_id": [None, person.id], "roles": sorted(r.value for r in roles)},
        summary=user.email,
        ip=ip,
    )
    return user


def sign_in_with_link(token: str, *, ip: str | None = None) -> User:
    """Use a sign-in link: its user, once (DomainError if it is not valid any more). A link
    for a person without an account creates it, linked to the person; two such links used at
    the same moment create one account (the person's row is locked first).

    Other sign-in links still waiting in the user's mailbox stop working too. The caller
    signs the user in (``flask_login.login_user``) and commits.
    """
    row = tokens.peek(token, TokenPurpose.SIGN_IN)
    if row.user_id is None:
        db.session.scalar(
            sa.select(Person)
            .where(Person.id == row.person_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        used = tokens.consume_row(token, TokenPurpose.SIGN_IN)
        assert used.person is not None
        user = _account_of(used.person, ip=ip)
    else:
        user = tokens.consume(token, TokenPurpose.SIGN_IN)
    now = utcnow()
    holders = [UserToken.user_id == user.id]
    if user.person_id is not None:
        holders.append(UserToken.person_id == user.person_id)
    db.session.execute(
        sa.update(UserToken)
        .where(
            sa.or_(*holders),
            UserToken.purpose == TokenPurpose.SIGN_IN,
            UserToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    user.last_login_at = now
    audit.record(
        "auth.sign_in", actor=user, obj=user, changes={"method": "link"}, summary=user.email, ip=ip
    )
    return user


# --------------------------------------------------------------------------- profile


def zone_groups() -> dict[str, list[tuple[str, str, str]]]:
    """IANA time zones by region for a select: {region: [(name, city label, search text)]}."""
    groups: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for name in current_timezones():
        region, _sep, place = name.partition("/")
        if region in ZONE_REGIONS and place:
            label = place.replace("_", " ").replace("/", " / ")
            groups[region].append((name, label, f"{name} {label}".lower()))
    groups["UTC"] = [("UTC", "UTC", "utc")]
    return {region: groups[region] for region in (*ZONE_REGIONS, "UTC") if groups[region]}


def update_profile(user: User, *, timezone: str | None, locale: str | None) -> None:
    """Set the user's own time zone and language (None: each cohort's zone, the browser's
    language). DomainError for a zone or language that does not exist."""
    timezone = timezone or None
    locale = locale or None
    if timezone is not None and not is_valid_timezone(timezone):
        raise DomainError(_("Choose a time zone from the list."), "timezone")
    if timezone is not None:
        timezone = current_name(timezone)  # "Asia/Calcutta" is kept as "Asia/Kolkata"
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Choose a language from the list."), "locale")
    before = {"timezone": user.timezone, "locale": user.locale}
    user.timezone = timezone
    user.locale = locale
    audit.record_changes(
        "user.profile",
        before,
        {"timezone": timezone, "locale": locale},
        actor=user,
        obj=user,
        summary=user.email,
    )


# --------------------------------------------------------------------------- calendar feed


def feed_url(user: User) -> str | None:
    """The user's private calendar address, or None while they have none."""
    if not user.calendar_token:
        return None
    return external_url("portal.feed", token=user.calendar_token)


def reset_calendar_token(user: User) -> str:
    """A new secret for the user's calendar address; the old address stops working."""
    had = user.calendar_token is not None
    user.calendar_token = secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)
    audit.record(
        "user.calendar_link_reset" if had else "user.calendar_link_create",
        actor=user,
        obj=user,
        summary=user.email,
    )
    return user.calendar_token


def feed_user(token: str) -> User:
    """The active user whose calendar address holds ``token`` (NotFound otherwise)."""
    user = None
    if token and len(token) <= 64:
        user = db.session.scalar(sa.select(User).where(User.calendar_token == token))
    if user is None or not user.active:
        raise NotFound(_("No such calendar."))
    return user


def feed_sessions(user: User) -> list[Session]:
    """The sessions of the cohorts the user is on as a participant (enrolled, completed or
    not completed) and, for trainers, the sessions they teach; cancelled ones included."""
    if user.person_id is None:
        return []
    conditions = [
        Session.cohort_id.in_(
            sa.select(Enrolment.cohort_id).where(
                Enrolment.person_id == user.person_id, Enrolment.active
            )
        )
    ]
    if Role.TRAINER in user.roles:
        conditions.append(
            Session.id.in_(
                sa.select(session_trainers.c.session_id).where(
                    session_trainers.c.person_id == user.person_id
                )
            )
        )
    return list(
        db.session.scalars(
            sa.select(Session)
            .where(sa.or_(*conditions))
            .options(
                joinedload(Session.cohort).joinedload(Cohort.programme),
                joinedload(Session.module),
                selectinload(Session.trainers),
            )
            .order_by(Session.starts_at, Session.id)
        ).unique()
    )


def calendar_feed(token: str) -> CalendarFile:
    """The RFC 5545 calendar behind a private calendar address (NotFound if there is none)."""
    user = feed_user(token)
    languages = current_app.config["LANGUAGES"]
    locale = user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        name = _(
            "%(organisation)s: %(name)s",
            organisation=current_app.config["ORGANISATION_NAME"],
            name=user.name,
        )
        body = build_calendar(name, feed_sessions(user), zone=user.timezone, with_cohort=True)
    return CalendarFile(filename="training.ics", body=body)
