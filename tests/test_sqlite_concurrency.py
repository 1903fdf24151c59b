"""The embedded default under real use: a server started the way ``make run`` starts it
(``flask run`` on SQLite, e-mail delivered by a thread of the same process) takes many
writing requests at once without a single "database is locked".

This test always uses its own SQLite file, also when the suite runs on PostgreSQL: it is
about SQLite, the database every new installation starts with.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from tests.servers import FLASK, Browser, app_environment, free_port, serving
from trainingmgr import create_app
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage, OutboxStatus

WAITLISTED = 24
SESSIONS = 12


@dataclass
class Seeded:
    port: int
    cohort_id: int
    session_ids: list[int]
    enrolment_ids: list[int]


def seed(env: dict[str, str]) -> tuple[int, list[int], list[int]]:
    """A coordinator, a cohort with 24 people on its waitlist and 12 sessions of 1 person."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "INSTANCE_PATH": env["INSTANCE_PATH"]}
    )
    with app.app_context():
        programme = factories.programme()
        user = factories.user(Role.COORDINATOR, email="coordinator@example.org")
        user.programmes.append(programme)
        cohort = factories.cohort(programme, capacity=500)
        start = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
        sessions = [
            factories.session(cohort, starts_at=start + timedelta(days=i)) for i in range(SESSIONS)
        ]
        enrolled = factories.enrolment(cohort)
        waiting = [
            factories.enrolment(
                cohort,
                factories.person(email=f"waiting{i}@example.org"),
                status=EnrolmentStatus.WAITLISTED,
                waitlist_position=i + 1,
            )
            for i in range(WAITLISTED)
        ]
        db.session.commit()
        result = (cohort.id, [s.id for s in sessions], [enrolled.id])
        del waiting
        db.session.remove()
        db.engine.dispose()
    return result


@pytest.fixture
def make_run_server(tmp_path: Path) -> Iterator[tuple[Seeded, subprocess.Popen[str]]]:
    port = free_port()
    env = app_environment(
        tmp_path,
        port,
        MAIL_DELIVERY_IN_PROCESS="1",  # as `make run` sets it
        WORKER_POLL_SECONDS="1",  # the shortest wait between two deliveries
    )
    cohort_id, session_ids, enrolment_ids = seed(env)
    command = [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, env, port) as server:
        yield Seeded(port, cohort_id, session_ids, enrolment_ids), server


def test_many_writing_requests_at_once_never_meet_a_locked_database(
    make_run_server: tuple[Seeded, subprocess.Popen[str]], tmp_path: Path
) -> None:
    seeded, server = make_run_server
    port = seeded.port
    browser = Browser(port)
    token = browser.csrf_token("/login")
    status, _ = browser.request(
        "POST",
        "/login",
        {"csrf_token": token, "email": "coordinator@example.org", "password": factories.PASSWORD},
    )
    assert status == 302, "the coordinator could not sign in"
    token = browser.csrf_token(f"/cohorts/{seeded.cohort_id}")

    def promote(_: int) -> int:
        client = Browser(port, browser.cookie)
        path = f"/cohorts/{seeded.cohort_id}/enrolments/promote"
        return client.request("POST", path, {"csrf_token": token})[0]

    def save_roster(session_id: int) -> int:
        client = Browser(port, browser.cookie)
        form = {
            "csrf_token": token,
            "rows-0-enrolment_id": str(seeded.enrolment_ids[0]),
            "rows-0-status": "present",
            "rows-0-note": "on time",
            "rows-0-loaded_status": "",
            "rows-0-loaded_note": "",
            "rows-0-loaded_version": "0",
        }
        return client.request("POST", f"/sessions/{session_id}/attendance", form)[0]

    with ThreadPoolExecutor(max_workers=24) as pool:
        promotions = [pool.submit(promote, i) for i in range(WAITLISTED)]
        saves = [pool.submit(save_roster, sid) for sid in seeded.session_ids]
        statuses = [f.result() for f in promotions + saves]

    assert statuses == [302] * (WAITLISTED + SESSIONS)  # every one saved, then redirected
    time.sleep(3.0)  # let the delivery thread send the confirmations
    server.terminate()
    errors = server.communicate(timeout=10)[1]
    assert "database is locked" not in errors
    assert "Traceback" not in errors

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'trainingmgr.sqlite3'}")
    with engine.connect() as conn:
        waiting = conn.scalar(
            sa.text("SELECT count(*) FROM enrolments WHERE status = 'waitlisted'")
        )
        recorded = conn.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord))
        mails = conn.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    engine.dispose()
    assert waiting == 0  # everyone on the waitlist got a seat
    assert recorded == SESSIONS
    assert dict(mails) == {OutboxStatus.SENT: WAITLISTED}  # and every confirmation went out
