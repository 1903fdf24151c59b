"""Realistic demo data, loaded by ``flask --app app demo``. Safe to run again.

What is loaded (see ``docs/architecture.md`` and ``DESIGN.md`` for the domain):

- five programmes with their curricula: the MMDP diploma in Maastricht, the four MMPAF
  online courses, the Gambia training in Banjul, the RTCM training of trainers (ToT) in Baku
  and the RTCM national roll-outs (Baku in Azerbaijani, Bishkek in Russian) delivered by
  ToT graduates;
- nine cohorts in their own time zones. Dates are computed from the day of loading, so the
  home pages always have something to show: the MMDP is under way (sessions today and in
  the coming days), the Baku roll-out had its first day a few days ago and has its second
  day in a few days, some cohorts are finished (with attendance and completion) and some
  are upcoming;
- some 240 participants (about 230 of them with a seat) named in their own scripts, a
  handful of trainers, and the five demo accounts of ``DEMO_ACCOUNTS`` (password
  ``demo-password``).

People and enrolments come from ``trainingmgr/data/*.csv`` and a seeded generator: the
same people on every run, whatever the day. Idempotency goes by natural keys: programme
code, module (programme, code), person e-mail, account e-mail and cohort (programme, name).
A cohort that exists already is left as it is (its sessions, enrolments and attendance are
only created together with it), so loading twice, or on another day, adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from trainingmgr.config import DATA_DIR
from trainingmgr.core.types import utcnow
from trainingmgr.demo.accounts import (
    ACCESS_ACCOUNTS,
    COORDINATED,
    COORDINATOR_EMAIL,
    DEMO_ACCOUNTS,
    GRADUATE_EMAIL,
    NEW_PARTICIPANT_EMAIL,
    PARTICIPANT_EMAIL,
    PASSWORD,
    SECOND_COORDINATOR_EMAIL,
    TRAINER_EMAIL,
)
from trainingmgr.demo.certificates import DEMO_SIGNATORIES
from trainingmgr.demo.loader import _Loader
from trainingmgr.demo.people import POSITIONS, SEED
from trainingmgr.extensions import db

__all__ = [
    "ACCESS_ACCOUNTS",
    "COORDINATED",
    "COORDINATOR_EMAIL",
    "DATA_DIR",
    "DEMO_ACCOUNTS",
    "DEMO_SIGNATORIES",
    "GRADUATE_EMAIL",
    "NEW_PARTICIPANT_EMAIL",
    "PARTICIPANT_EMAIL",
    "PASSWORD",
    "POSITIONS",
    "SECOND_COORDINATOR_EMAIL",
    "SEED",
    "TRAINER_EMAIL",
    "DemoRefused",
    "load",
    "refuse_in_production",
]


class DemoRefused(Exception):
    """The demo would be loaded into a production database."""


def refuse_in_production() -> None:
    """The demo creates accounts whose password is printed in the README: never in production."""
    if current_app.config.get("TRAININGMGR_ENV") == "production":
        raise DemoRefused(
            "Refused: TRAININGMGR_ENV is production. The demo creates accounts such as "
            "admin@example.org whose password is published in the README, so it never loads "
            "into a production database. Create real accounts with "
            "`flask --app app create-user EMAIL --role admin`."
        )


def load(now: datetime | None = None) -> str:
    """Load the demo data (dates relative to ``now``), commit, and say what was created.

    Raises ``DemoRefused``, writing nothing, in production.
    """
    refuse_in_production()
    started = utcnow()
    loader = _Loader(now or started)
    loader.run()
    db.session.commit()
    return loader.tally.summary((utcnow() - started).total_seconds())
