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
from datetime import timedelta
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserToken
from trainingmgr.accounts.services import get_user_by_email
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.calendar import CalendarFile, build_calendar
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    Enrolment,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.timefmt import is_valid_timezone
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import external_url
from trainingmgr.extensions import db
from trainingmgr.mail import services as mail

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


def mail_locale(user: User) -> str | None:
    """The language of e-mails to ``user``: their own choice, else their latest cohort's."""
    if user.locale:
        return user.locale
    if user.person_id is None:
        return None
    language = db.session.scalar(
        sa.select(Cohort.language)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == user.person_id)
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
        .limit(1)
    )
    # A bilingual cohort ("en+ru") writes to its participants in its first language.
    return language.split("+")[0] if language else None


def request_sign_in_link(email: str, *, ip: str | None = None) -> bool:
    """E-mail a sign-in link to the active account with this address, if there is one.

    Returns whether a link was queued. The answer is for tests and logs only: the page shown
    must be the same either way, so nobody can learn which addresses have accounts.
    """
    user = get_user_by_email(email)
    if user is None or not user.active:
        return False
    minutes = int(current_app.config["SIGN_IN_LINK_MINUTES"])
    token = tokens.make_token(user, TokenPurpose.SIGN_IN, timedelta(minutes=minutes))
    mail.send(
        "sign_in_link",
        mail.user_address(user),
        {"user": user, "url": external_url("portal.use_link", token=token), "minutes": minutes},
        locale=mail_locale(user),
        user_id=user.id,
    )
    audit.record("auth.sign_in_link", obj=user, summary=user.email, ip=ip)
    return True


def check_sign_in_link(token: str) -> User:
    """The user a sign-in link is for, without using it (DomainError saying why not)."""
    return tokens.peek(token, TokenPurpose.SIGN_IN).user


def sign_in_with_link(token: str, *, ip: str | None = None) -> User:
    """Use a sign-in link: its user, once (DomainError if it is not valid any more).

    Other sign-in links still waiting in the user's mailbox stop working too. The caller
    signs the user in (``flask_login.login_user``) and commits.
    """
    user = tokens.consume(token, TokenPurpose.SIGN_IN)
    now = utcnow()
    db.session.execute(
        sa.update(UserToken)
        .where(
            UserToken.user_id == user.id,
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
    for name in sorted(available_timezones()):
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
                Enrolment.person_id == user.person_id, Enrolment.status.in_(ACTIVE_ENROLMENT)
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
