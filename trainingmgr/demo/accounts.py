"""Demo accounts: the five sign-ins of ``DEMO_ACCOUNTS``, who coordinates what, and the two
people of ``ACCESS_ACCOUNTS`` (a graduate and an enrolled person with no account yet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts.models import Role, User
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Enrolment
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader

PASSWORD = "demo-password"

TRAINER_EMAIL = "trainer@example.org"
PARTICIPANT_EMAIL = "participant@example.org"
COORDINATOR_EMAIL = "coordinator@example.org"
SECOND_COORDINATOR_EMAIL = "coordinator2@example.org"
# Who coordinates which demo programme: the first coordinator all but the Gambia training,
# which only the second one coordinates, so each sees a different part of the demo.
COORDINATED = {
    COORDINATOR_EMAIL: ("MMDP", "MMPAF", "RTCM-TOT", "RTCM-RO"),
    SECOND_COORDINATOR_EMAIL: ("GAMBIA",),
}


@dataclass(frozen=True)
class _Account:
    email: str
    role: Role
    display_name: str
    person_email: str | None
    description: str


_ACCOUNTS = (
    _Account("admin@example.org", Role.ADMIN, "Demo administrator", None, "administrator"),
    _Account(
        COORDINATOR_EMAIL,
        Role.COORDINATOR,
        "Katarina Novak",
        None,
        "coordinator of every demo programme but the Gambia training",
    ),
    _Account(
        SECOND_COORDINATOR_EMAIL,
        Role.COORDINATOR,
        "Fatou Ceesay",
        None,
        "coordinator of the Gambia training only",
    ),
    _Account(
        TRAINER_EMAIL,
        Role.TRAINER,
        "",
        TRAINER_EMAIL,
        "trainer: Elvin Quliyev (RTCM roll-out in Baku, MMDP)",
    ),
    _Account(
        PARTICIPANT_EMAIL,
        Role.PARTICIPANT,
        "",
        PARTICIPANT_EMAIL,
        "participant: Ləman Əliyeva (RTCM roll-out in Baku)",
    ),
)

# (e-mail, what the account is), printed by ``flask --app app demo``.
DEMO_ACCOUNTS: list[tuple[str, str]] = [(a.email, a.description) for a in _ACCOUNTS]


def load_accounts(loader: _Loader) -> None:
    """The accounts of ``DEMO_ACCOUNTS`` that do not exist yet (password ``PASSWORD``)."""
    password_hash: str | None = None  # one (slow, salted) hash serves every demo account
    for account in _ACCOUNTS:
        user = accounts.get_user_by_email(account.email)
        if user is not None:
            loader.tally.present["accounts"] += 1
        else:
            person_id = loader.person_ids.get(account.person_email or "")
            if person_id is not None and db.session.scalar(
                sa.select(User.id).where(User.person_id == person_id)
            ):
                person_id = None  # someone else's account is linked to that person
            user = accounts.create_user(
                account.email,
                [account.role],
                display_name=account.display_name,
                person_id=person_id,
            )
            password_hash = password_hash or accounts.hash_password(PASSWORD)
            user.password_hash = password_hash
            loader.tally.created["accounts"] += 1
        loader.users[account.email] = user


# A participant whose cohort is over and whose certificate is issued (password sign-in), and
# an enrolled person with no account: "E-mail me a sign-in link" with that address creates it.
GRADUATE_EMAIL = "graduate@example.org"
NEW_PARTICIPANT_EMAIL = "kofi.asante@example.org"
ACCESS_ACCOUNTS: list[tuple[str, str]] = [
    (GRADUATE_EMAIL, "participant with an issued certificate (password demo-password)"),
    (NEW_PARTICIPANT_EMAIL, "enrolled, no account yet: sign in with an e-mailed link"),
]


def _access_demo(participant: User) -> None:
    """The two people of ``ACCESS_ACCOUNTS`` (idempotent)."""
    if accounts.get_user_by_email(GRADUATE_EMAIL) is None:
        holder = db.session.scalar(
            sa.select(Certificate.person_id)
            .join(Person, Person.id == Certificate.person_id)
            .where(
                Certificate.status == CertificateStatus.VALID,
                ~sa.exists().where(User.person_id == Person.id),
            )
            .order_by(Certificate.id)
            .limit(1)
        )
        if holder is not None:
            user = accounts.create_user(GRADUATE_EMAIL, [], person_id=holder)
            user.password_hash = accounts.hash_password(PASSWORD)
    cohort_id = db.session.scalar(
        sa.select(Enrolment.cohort_id)
        .where(Enrolment.person_id == participant.person_id)
        .order_by(Enrolment.id.desc())
        .limit(1)
    )
    if cohort_id is None or db.session.scalar(
        sa.select(Person.id).where(Person.email == NEW_PARTICIPANT_EMAIL)
    ):
        return
    kofi = Person(
        first_name="Kofi",
        last_name="Asante",
        email=NEW_PARTICIPANT_EMAIL,
        country="GH",
        organisation="Ghana Immigration Service",
    )
    db.session.add(kofi)
    db.session.flush()
    db.session.add(Enrolment(cohort_id=cohort_id, person_id=kofi.id))
    db.session.flush()
