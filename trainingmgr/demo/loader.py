"""The demo loader: loads every part of the demo in order and tallies what it created."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from trainingmgr.accounts.models import User
from trainingmgr.demo.accounts import (
    COORDINATED,
    PARTICIPANT_EMAIL,
    _access_demo,
    load_accounts,
)
from trainingmgr.demo.certificates import load_certificates
from trainingmgr.demo.cohorts import _COHORTS
from trainingmgr.demo.people import _plan_people, load_people
from trainingmgr.demo.programmes import load_programmes
from trainingmgr.demo.sessions import load_cohort
from trainingmgr.evaluations import demo as evaluation_demo
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Module, Programme

_KINDS = (
    ("programmes", "programme", "programmes"),
    ("modules", "module", "modules"),
    ("cohorts", "cohort", "cohorts"),
    ("sessions", "session", "sessions"),
    ("people", "person", "people"),
    ("enrolments", "enrolment", "enrolments"),
    ("attendance", "attendance record", "attendance records"),
    ("accounts", "account", "accounts"),
    ("certificates", "certificate", "certificates"),
)


class _Tally:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()

    @staticmethod
    def _phrase(counts: Counter[str]) -> str:
        parts = [
            f"{counts[key]} {one if counts[key] == 1 else many}"
            for key, one, many in _KINDS
            if counts[key]
        ]
        return ", ".join(parts) if parts else "nothing"

    def summary(self, seconds: float) -> str:
        if +self.created:
            lines = [f"Demo data: created {self._phrase(self.created)} in {seconds:.1f} s."]
        else:
            lines = ["Demo data already loaded: nothing created."]
        if +self.present:
            lines.append(f"Already there, left as they were: {self._phrase(self.present)}.")
        return "\n".join(lines)


class _Loader:
    """What one run of the demo loads, and what it found or created on the way."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()
        self.tally = _Tally()
        self.plan = _plan_people()
        self.person_ids: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.programmes: dict[str, Programme] = {}
        self.modules: dict[str, Module] = {}
        self.cohort_ids: dict[str, int] = {}
        self.new_cohorts: set[str] = set()  # keys of the cohorts this run created

    def run(self) -> None:
        load_people(self)
        load_accounts(self)
        load_programmes(self)
        for cdef in _COHORTS:
            load_cohort(self, cdef)
        for email, codes in COORDINATED.items():
            coordinator = self.users[email]
            for code in codes:
                if self.programmes[code] not in coordinator.programmes:
                    coordinator.programmes.append(self.programmes[code])
        db.session.flush()
        load_certificates(self)
        evaluation_demo.load(
            {k: v for k, v in self.cohort_ids.items() if k in self.new_cohorts}, self.now
        )
        _access_demo(self.users[PARTICIPANT_EMAIL])
